using System.ComponentModel;
using Dermxai.Client.Cli;
using Dermxai.Client.Connection;
using Grpc.Health.V1;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Client.Commands;

internal sealed class HealthSettings : ServerSettings
{
    [CommandOption("--service <NAME>")]
    [Description("Service to ask about (grpc.health.v1). Default: \"\" (the server as a whole); e.g. dermxai.v1.DermxaiService.")]
    public string Service { get; set; } = "";
}

[Description("Asks the server's grpc.health.v1 service; exit code 0 only when SERVING.")]
internal sealed class HealthCommand(CliConsoles consoles) : AsyncCommand<HealthSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, HealthSettings settings, CancellationToken cancellation)
    {
        using var connection = DermxaiConnection.Open(settings);
        var response = await connection.UnaryAsync(o => connection.Health.CheckAsync(new HealthCheckRequest { Service = settings.Service }, o), cancellation);
        var status = response.Status switch
        {
            HealthCheckResponse.Types.ServingStatus.Serving => "SERVING",
            HealthCheckResponse.Types.ServingStatus.NotServing => "NOT_SERVING",
            HealthCheckResponse.Types.ServingStatus.ServiceUnknown => "SERVICE_UNKNOWN",
            _ => "UNKNOWN",
        };
        consoles.Out.Line($"{connection.Address} {status}");
        return response.Status == HealthCheckResponse.Types.ServingStatus.Serving ? CommandResults.Success : CommandResults.SomeFailed;
    }
}
