using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Dermxai.Client.Bench;
using Dermxai.Client.Cli;
using Dermxai.Client.Connection;
using Dermxai.Protocol.V1;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Client.Commands;

[Description("Load test: closed loop (--concurrency) or open loop (--rps), for a --duration or, closed loop, a number of --requests; throughput, latency percentiles and errors by status, as a table and as ghz-shaped JSON.")]
internal sealed class BenchCommand(CliConsoles consoles) : AsyncCommand<BenchSettings>
{
    private static readonly JsonSerializerOptions GhzJson = new() { WriteIndented = true };

    public override async Task<int> ExecuteAsync(CommandContext context, BenchSettings settings, CancellationToken cancellation)
    {
        using var connection = DermxaiConnection.Open(settings);
        var runner = new LoadRunner(CallFor(connection, settings.BuildRequest()));
        var mode = BenchPhases.LoadShape(settings);
        var run = await BenchPhases.RunAsync(runner, settings, consoles.Error.Line, cancellation);

        var summary = GhzSummary.From(run, Options(settings), settings.CountsRequests ? GhzSummary.CountDone : GhzSummary.TimeUp);
        consoles.Human(settings.Json).Write(SummaryTable(summary, settings.CallName, mode));
        if (summary.StatusCodeDistribution.Keys.Any(k => k != "OK")) consoles.Human(settings.Json).Write(StatusTable(summary));
        if (settings.Json is not null) JsonOutput.Write(consoles.Out, settings.Json, summary, GhzJson);
        return summary.Count > 0 && summary.ErrorDistribution.Count == 0 ? CommandResults.Success : CommandResults.SomeFailed;
    }

    private static Func<CancellationToken, Task> CallFor(DermxaiConnection connection, Google.Protobuf.IMessage request) => request switch
    {
        ClassifyRequest classify => token => connection.UnaryAsync(o => connection.Service.ClassifyAsync(classify, o), token),
        ExplainRequest explain => token => connection.UnaryAsync(o => connection.Service.ExplainAsync(explain, o), token),
        _ => throw new ArgumentException($"No RPC for {request.Descriptor.Name}."),
    };

    private static GhzOptions Options(BenchSettings settings) => new(
        new Uri(settings.ResolveServer()).Authority,
        settings.CallName,
        new Uri(settings.ResolveServer()).Scheme == "http",
        settings.OpenLoop ? 0 : settings.Concurrency,
        settings.Rps,
        (long)(settings.MeasuredDuration.Ticks * 100L),
        (long)(settings.Deadline * 1e9),
        Binary: true,
        Environment.ProcessorCount);

    private static Table SummaryTable(GhzSummary summary, string call, string mode)
    {
        var table = new Table { Title = new TableTitle($"{call}, {mode}") }
            .AddColumns("Calls", "Errors", "Req/s", "Average", "p50", "p90", "p99", "Max");
        for (var column = 2; column < table.Columns.Count; column++) table.Columns[column].RightAligned();
        table.AddRow(
            summary.Count.ToString(CultureInfo.InvariantCulture),
            summary.ErrorDistribution.Values.Sum().ToString(CultureInfo.InvariantCulture),
            summary.Rps.ToString("0.0", CultureInfo.InvariantCulture),
            Milliseconds(summary.Average),
            Milliseconds(summary.Percentile(50)),
            Milliseconds(summary.Percentile(90)),
            Milliseconds(summary.Percentile(99)),
            Milliseconds(summary.Slowest));
        return table;
    }

    private static Table StatusTable(GhzSummary summary)
    {
        var table = new Table { Title = new TableTitle("Calls by status") }.AddColumns("Status", "Calls");
        foreach (var (status, count) in summary.StatusCodeDistribution) table.AddRow(Markup.Escape(status), count.ToString(CultureInfo.InvariantCulture));
        foreach (var (error, count) in summary.ErrorDistribution) table.AddRow(Markup.Escape(error), count.ToString(CultureInfo.InvariantCulture));
        return table;
    }

    private static string Milliseconds(long nanoseconds) => (nanoseconds / 1e6).ToString("0.00 ms", CultureInfo.InvariantCulture);
}
