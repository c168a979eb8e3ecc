using Dermxai.Client.Cli;
using Dermxai.Protocol.V1;

namespace Dermxai.Client.Explain;

/// <summary>What `explain --json` writes: per image, the differential and every explanation's grid.</summary>
internal sealed record ExplainReport(string Server, string? ModelSha256, int Succeeded, int Failed, List<ExplainedImageJson> Images);

internal sealed record ExplainedImageJson(
    string File, bool Ok, string? Error, string? RequestId, int? ImageWidth, int? ImageHeight,
    List<ScoreJson>? Predictions, List<ExplanationJson>? Explanations, TimingsJson? Timings);

internal sealed record ExplanationJson(
    string Method, ScoreJson? Target, bool ClassSpecific, int StartLayer, GridJson? Grid,
    string? OverlayPng, string? HeatmapPng, FaithfulnessJson? Faithfulness);

internal sealed record GridJson(int Rows, int Cols, float[] Values);

internal sealed record FaithfulnessJson(float Fraction, float Probability, float ProbabilityWithoutMostRelevant, float ProbabilityWithoutLeastRelevant);

/// <summary>One explained image: the server's answer and the PNG files written for it (relative to --out).</summary>
internal sealed record ExplainedImage(ExplainResponse Response, IReadOnlyList<WrittenPngs> Files);

internal sealed record WrittenPngs(string? Overlay, string? Heatmap);

internal static class ExplainReportBuilder
{
    public static ExplainReport Build(string server, IReadOnlyList<FileOutcome<ExplainedImage>> outcomes, bool includeGrids)
    {
        var images = outcomes.Select(o => o.Result is null
            ? new ExplainedImageJson(o.Path, false, o.Error, null, null, null, null, null, null)
            : Image(o.Path, o.Result, includeGrids)).ToList();
        var sha = outcomes.Select(o => o.Result?.Response.ModelSha256).FirstOrDefault(s => s is not null);
        return new ExplainReport(server, sha, images.Count(i => i.Ok), images.Count(i => !i.Ok), images);
    }

    private static ExplainedImageJson Image(string file, ExplainedImage image, bool includeGrids)
    {
        var r = image.Response;
        var explanations = r.Explanations.Select((e, i) => Explanation(e, image.Files[i], includeGrids)).ToList();
        return new ExplainedImageJson(file, true, null, r.RequestId, r.ImageWidth, r.ImageHeight,
            ScoreJson.FromAll(r.Predictions), explanations, TimingsJson.From(r.Timings));
    }

    private static ExplanationJson Explanation(Explanation e, WrittenPngs files, bool includeGrid) => new(
        e.Method,
        e.Target is null ? null : ScoreJson.From(e.Target),
        e.ClassSpecific,
        e.StartLayer,
        includeGrid && e.Grid is not null ? new GridJson(e.Grid.Rows, e.Grid.Cols, e.Grid.Values.ToArray()) : null,
        files.Overlay,
        files.Heatmap,
        e.Faithfulness is null ? null : new FaithfulnessJson(e.Faithfulness.Fraction, e.Faithfulness.Probability,
            e.Faithfulness.ProbabilityWithoutMostRelevant, e.Faithfulness.ProbabilityWithoutLeastRelevant));
}
