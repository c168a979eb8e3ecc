using Dermxai.Client.Commands;
using Dermxai.Client.Connection;
using Grpc.Core;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Client.Cli;

/// <summary>The `dermxai` command line: every command, wired to the given consoles.</summary>
internal static class DermxaiCli
{
    public static Task<int> RunAsync(string[] args, CliConsoles consoles, CancellationToken cancellation)
    {
        var registrar = new TypeRegistrar();
        registrar.RegisterInstance(typeof(CliConsoles), consoles);
        var app = new CommandApp(registrar);
        app.Configure(config => Configure(config, consoles));
        return app.RunAsync(args, cancellation);
    }

    private static void Configure(IConfigurator config, CliConsoles consoles)
    {
        config.SetApplicationName("dermxai");
        config.Settings.Console = consoles.Out;
        config.SetExceptionHandler((error, _) => ReportFailure(consoles.Error, error));

        config.AddCommand<ExplainCommand>("explain")
            .WithExample("explain", "samples/images", "--out", "out/demo", "--json", "out/demo/results.json")
            .WithExample("explain", "photo.jpg", "--method", "transformer_attribution,attention_rollout", "--target", "top-k:2", "--out", "maps");
        config.AddCommand<ClassifyCommand>("classify").WithExample("classify", "photos/*.jpg", "--top-k", "3");
        config.AddCommand<InfoCommand>("info");
        config.AddCommand<HealthCommand>("health");
        config.AddCommand<BenchCommand>("bench")
            .WithExample("bench", "--image", "photo.jpg", "--rpc", "classify", "--concurrency", "16", "--duration", "30s", "--json", "bench.json")
            .WithExample("bench", "--image", "photo.jpg", "--rpc", "explain", "--rps", "20", "--duration", "1m")
            .WithExample("bench", "--image", "photo.jpg", "--rpc", "explain", "--concurrency", "1", "--warmup-requests", "1", "--requests", "5", "--json", "bench.json");
        config.AddCommand<PayloadCommand>("payload").IsHidden();
    }

    /// <summary>Failures of a whole command: one line on the error console, exit code 2.</summary>
    private static int ReportFailure(IAnsiConsole errors, Exception error)
    {
        switch (error)
        {
            case CommandAppException { Pretty: { } pretty }:
                errors.Write(pretty);
                break;
            case RpcException rpc:
                errors.Line($"error: {RpcErrors.Describe(rpc)}");
                break;
            case OperationCanceledException:
                errors.Line("cancelled");
                break;
            default:
                errors.Line($"error: {error.Message}");
                break;
        }
        return CommandResults.Failed;
    }
}
