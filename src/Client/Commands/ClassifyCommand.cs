using System.ComponentModel;
using Dermxai.Client.Cli;
using Dermxai.Client.Connection;
using Dermxai.Client.Explain;
using Dermxai.Client.Inputs;
using Dermxai.Protocol.V1;
using Google.Protobuf;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Client.Commands;

[Description("The differential (top classes with probabilities) of each image.")]
internal sealed class ClassifyCommand(CliConsoles consoles) : AsyncCommand<FileBatchSettings>
{
    internal sealed record ClassifiedImage(string File, bool Ok, string? RequestId, List<ScoreJson>? Predictions, string? Error, TimingsJson? Timings);

    internal sealed record ClassifyReport(string Server, string? ModelSha256, int Succeeded, int Failed, List<ClassifiedImage> Images);

    public override async Task<int> ExecuteAsync(CommandContext context, FileBatchSettings settings, CancellationToken cancellation)
    {
        var inputs = InputPaths.Expand(settings.Paths, settings.Recursive);
        if (inputs.Files.Count == 0) return CommandResults.NothingToDo(consoles.Error, inputs);
        using var connection = DermxaiConnection.Open(settings);

        var outcomes = await FileBatch.RunAsync(consoles.Error, "Classifying", inputs.Files, settings.Parallel,
            async (file, token) =>
            {
                var request = ClassifyRequests.Create(ByteString.CopyFrom(await File.ReadAllBytesAsync(file, token)), settings.TopK);
                return await connection.UnaryAsync(o => connection.Service.ClassifyAsync(request, o), token);
            }, cancellation);

        consoles.Human(settings.Json).Write(ResultTable(outcomes));
        var failed = FileBatch.ReportFailures(consoles.Error, outcomes) + CommandResults.ReportMissing(consoles.Error, inputs);
        if (settings.Json is not null) JsonOutput.Write(consoles.Out, settings.Json, Report(connection.Address, outcomes));
        return failed == 0 ? CommandResults.Success : CommandResults.SomeFailed;
    }

    private static Table ResultTable(IEnumerable<FileOutcome<ClassifyResponse>> outcomes)
    {
        var table = new Table().AddColumns("File", "Top class", "Probability", "Runners-up");
        foreach (var outcome in outcomes)
        {
            var name = Markup.Escape(Path.GetFileName(outcome.Path));
            if (outcome.Result is not { Predictions.Count: > 0 } response)
            {
                table.AddRow(name, "[red]failed[/]", "", Markup.Escape(outcome.Error ?? "no predictions"));
                continue;
            }
            var top = response.Predictions[0];
            table.AddRow(name, Markup.Escape(top.Label), top.Probability.ToString("0.000"),
                Markup.Escape(PredictionText.Differential(response.Predictions.Skip(1), 2)));
        }
        return table;
    }

    private static ClassifyReport Report(string server, IReadOnlyList<FileOutcome<ClassifyResponse>> outcomes)
    {
        var images = outcomes.Select(o => new ClassifiedImage(o.Path, o.Succeeded, o.Result?.RequestId,
            o.Result is null ? null : ScoreJson.FromAll(o.Result.Predictions), o.Error, TimingsJson.From(o.Result?.Timings))).ToList();
        var sha = outcomes.FirstOrDefault(o => o.Result is not null)?.Result!.ModelSha256;
        return new ClassifyReport(server, sha, images.Count(i => i.Ok), images.Count(i => !i.Ok), images);
    }
}
