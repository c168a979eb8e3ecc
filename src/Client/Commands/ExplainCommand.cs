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

[Description("Relevance maps of each image: overlay/heatmap PNGs, an index.html page and a JSON with every grid.")]
internal sealed class ExplainCommand(CliConsoles consoles) : AsyncCommand<ExplainSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ExplainSettings settings, CancellationToken cancellation)
    {
        var inputs = InputPaths.Expand(settings.Paths, settings.Recursive);
        if (inputs.Files.Count == 0) return CommandResults.NothingToDo(consoles.Error, inputs);

        var selection = settings.Selection;
        var writePngs = settings.Out is not null && selection.AnyPng;
        var requests = settings.Requests;
        var names = new OutputNames(inputs.Files);
        if (settings.Out is not null) Directory.CreateDirectory(settings.Out);
        using var connection = DermxaiConnection.Open(settings);

        var outcomes = await FileBatch.RunAsync(consoles.Error, "Explaining", inputs.Files, settings.Parallel,
            async (file, token) =>
            {
                var image = ByteString.CopyFrom(await File.ReadAllBytesAsync(file, token));
                var request = requests.Create(image, writePngs && selection.Overlay, writePngs && selection.Heatmap, names.Stem(file));
                var response = await connection.UnaryAsync(o => connection.Service.ExplainAsync(request, o), token);
                var files = writePngs ? await WritePngsAsync(settings.Out!, names, file, response, token) : NoFiles(response);
                return new ExplainedImage(response, files);
            }, cancellation);

        consoles.Human(settings.Json).Write(ResultTable(outcomes));
        var failed = FileBatch.ReportFailures(consoles.Error, outcomes) + CommandResults.ReportMissing(consoles.Error, inputs);
        if (settings.Json is not null)
            JsonOutput.Write(consoles.Out, settings.Json, ExplainReportBuilder.Build(connection.Address, outcomes, selection.Grid));
        if (settings.Out is not null)
            consoles.Human(settings.Json).Line($"Page: {HtmlIndexWriter.Write(settings.Out, names, outcomes)}");
        return failed == 0 ? CommandResults.Success : CommandResults.SomeFailed;
    }

    private static async Task<IReadOnlyList<WrittenPngs>> WritePngsAsync(
        string folder, OutputNames names, string input, ExplainResponse response, CancellationToken cancellation)
    {
        var written = new List<WrittenPngs>(response.Explanations.Count);
        foreach (var explanation in response.Explanations)
        {
            var overlay = await WriteIfPresentAsync(folder, names.Png(input, explanation, response.Explanations.Count, "overlay"), explanation.OverlayPng, cancellation);
            var heatmap = await WriteIfPresentAsync(folder, names.Png(input, explanation, response.Explanations.Count, "heatmap"), explanation.HeatmapPng, cancellation);
            written.Add(new WrittenPngs(overlay, heatmap));
        }
        return written;
    }

    private static async Task<string?> WriteIfPresentAsync(string folder, string name, ByteString png, CancellationToken cancellation)
    {
        if (png.IsEmpty) return null;
        await File.WriteAllBytesAsync(Path.Combine(folder, name), png.Memory, cancellation);
        return name;
    }

    private static IReadOnlyList<WrittenPngs> NoFiles(ExplainResponse response) =>
        response.Explanations.Select(_ => new WrittenPngs(null, null)).ToList();

    private static Table ResultTable(IEnumerable<FileOutcome<ExplainedImage>> outcomes)
    {
        var table = new Table().AddColumns("File", "Top 3", "Explained", "Overlay");
        foreach (var outcome in outcomes)
        {
            var name = Markup.Escape(Path.GetFileName(outcome.Path));
            if (outcome.Result is null)
            {
                table.AddRow(name, "[red]failed[/]", Markup.Escape(outcome.Error ?? ""), "");
                continue;
            }
            var response = outcome.Result.Response;
            var explained = string.Join(", ", response.Explanations.Select(e => $"{e.Method} → {e.Target?.Label} ({e.Grid?.Rows}×{e.Grid?.Cols})"));
            var overlay = outcome.Result.Files.Select(f => f.Overlay).FirstOrDefault(f => f is not null) ?? "";
            table.AddRow(name, Markup.Escape(PredictionText.Differential(response.Predictions, 3)), Markup.Escape(explained), Markup.Escape(overlay));
        }
        return table;
    }
}
