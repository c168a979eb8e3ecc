using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dermxai.Evaluation;

/// <summary>Writes an <see cref="EvaluationReport"/> as evaluation.json, per_image.jsonl and evaluation.md.</summary>
public static class ReportWriter
{
    public const string JsonFile = "evaluation.json", PerImageFile = "per_image.jsonl", MarkdownFile = "evaluation.md";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private static readonly JsonSerializerOptions JsonLine = new(Json) { WriteIndented = false };

    /// <summary>Writes the three files into <paramref name="folder"/> (created if needed); returns their paths.</summary>
    public static IReadOnlyList<string> Write(EvaluationReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        string json = Path.Combine(folder, JsonFile), perImage = Path.Combine(folder, PerImageFile), markdown = Path.Combine(folder, MarkdownFile);
        File.WriteAllText(json, JsonSerializer.Serialize(report with { PerImage = [] }, Json) + "\n");
        File.WriteAllLines(perImage, report.PerImage.Select(r => JsonSerializer.Serialize(r, JsonLine)));
        File.WriteAllText(markdown, Markdown(report));
        return [json, perImage, markdown];
    }

    public static EvaluationReport ReadJson(string path) =>
        JsonSerializer.Deserialize<EvaluationReport>(File.ReadAllText(path), Json)
        ?? throw new InvalidDataException($"{path} holds no evaluation report.");

    /// <summary>The Markdown tables: perturbation and localisation for all images, then the breakdowns.</summary>
    public static string Markdown(EvaluationReport report)
    {
        var md = new StringBuilder();
        var all = report.All;
        md.AppendLine("# Relevance map evaluation").AppendLine();
        md.AppendLine($"- model: `{report.ModelPath}` ({report.Architecture}, sha256 `{report.ModelSha256[..Math.Min(12, report.ModelSha256.Length)]}…`)");
        md.AppendLine($"- data: `{report.DataPath}` ({report.DataFormat}), {all.Images} images evaluated, {report.Skipped.Count} skipped");
        md.AppendLine($"- clean accuracy: {Percent(all.CleanAccuracy)} %; maps for {(report.ExplainedClass is null ? "the predicted class" : $"class {report.ExplainedClass}")}, start_layer {report.StartLayer}; {report.Seconds:F0} s");
        md.AppendLine();
        AppendPerturbation(md, all);
        AppendLocalisation(md, all);
        AppendArtifactKinds(md, all);
        PaperNumbers.AppendTables(md);
        foreach (string dimension in new[] { "skin_tone", "background" })
        {
            var groups = report.Groups.Where(g => g.Dimension == dimension).ToArray();
            if (groups.Length > 0) AppendBreakdown(md, dimension, groups, report.Methods);
        }
        return md.ToString();
    }

    private static void AppendPerturbation(StringBuilder md, GroupSummary group)
    {
        if (group.Methods.All(m => m.Curves.Count == 0)) return;
        md.AppendLine("## Perturbation test: AUC (%) of accuracy vs fraction of pixels removed").AppendLine();
        md.AppendLine("Positive (most relevant removed first): lower is better. Negative (least relevant first): higher is better.").AppendLine();
        Header(md, "test", group.Methods.Select(m => m.Method));
        foreach (var (mode, explained) in new[] { ("negative", "predicted"), ("negative", "target"), ("positive", "predicted"), ("positive", "target") })
        {
            if (group.Methods.All(m => m.Curve(mode, explained) is null)) continue;
            Row(md, $"{mode} / {explained}", group.Methods.Select(m => m.Curve(mode, explained) is { } c ? Number(c.Auc) : "–"));
        }
        md.AppendLine();
        AppendCurves(md, group);
    }

    /// <summary>Accuracy per step, and the class most perturbed images are then predicted as (with its share).</summary>
    private static void AppendCurves(StringBuilder md, GroupSummary group)
    {
        foreach (string mode in new[] { "positive", "negative" })
        {
            var curves = group.Methods.Select(m => (m.Method, Curve: m.Curve(mode, "predicted"))).Where(c => c.Curve is not null).ToArray();
            if (curves.Length == 0) continue;
            md.AppendLine($"**{mode} perturbation, predicted class: accuracy % / most common prediction (share %) per fraction removed**").AppendLine();
            Header(md, "method", curves[0].Curve!.Fractions.Select(f => f.ToString("0.0", CultureInfo.InvariantCulture)));
            foreach (var (method, curve) in curves)
                Row(md, method, curve!.Accuracy.Select((a, i) =>
                    $"{Percent(a)} / {curve.TopPrediction[i]} ({Percent(curve.TopPredictionShare[i])})"));
            md.AppendLine();
        }
    }

    private static void AppendLocalisation(StringBuilder md, GroupSummary group)
    {
        if (group.Methods.All(m => m.Localisation is null)) return;
        md.AppendLine("## Localisation against the lesion mask (%)").AppendLine();
        md.AppendLine("Pixel accuracy, mIoU (accumulated over the set) and mAP as the paper's segmentation test; pointing game = the map's maximum lies in the lesion; mass = share of the map's relevance on the lesion, on artifacts (images that have one), and elsewhere (healthy skin and scene).").AppendLine();
        Header(md, "metric", group.Methods.Select(m => m.Method));
        var rows = new (string Name, Func<LocalisationSummary, double?> Value)[]
        {
            ("pixel accuracy", l => l.PixelAccuracy), ("mAP", l => l.MeanAveragePrecision), ("mIoU", l => l.MeanIoU),
            ("pointing game", l => l.PointingGame), ("mass on lesion", l => l.LesionMass),
            ("mass on artifacts", l => l.ArtifactMass), ("mass elsewhere", l => l.OutsideMass),
        };
        foreach (var (name, value) in rows)
            Row(md, name, group.Methods.Select(m => m.Localisation is { } l ? Percent(value(l)) : "–"));
        var counts = group.Methods.Select(m => m.Localisation).OfType<LocalisationSummary>().FirstOrDefault();
        md.AppendLine().AppendLine($"Images with a lesion mask: {counts?.ImagesWithLesion ?? 0}; with an artifact: {counts?.ImagesWithArtifacts ?? 0}.").AppendLine();
    }

    private static void AppendArtifactKinds(StringBuilder md, GroupSummary group)
    {
        var kinds = group.Methods.Select(m => m.Localisation).OfType<LocalisationSummary>()
            .SelectMany(l => l.ArtifactMassByKind.Keys).Distinct().OrderBy(k => k, StringComparer.Ordinal).ToArray();
        if (kinds.Length == 0) return;
        md.AppendLine("## Relevance mass on each artifact kind (%), images showing it").AppendLine();
        Header(md, "artifact (images)", group.Methods.Select(m => m.Method));
        foreach (string kind in kinds)
        {
            int images = group.Methods.Select(m => m.Localisation?.ArtifactMassByKind.GetValueOrDefault(kind)?.Images ?? 0).Max();
            Row(md, $"{kind} ({images})", group.Methods.Select(m =>
                m.Localisation?.ArtifactMassByKind.GetValueOrDefault(kind) is { } k ? Percent(k.Mass) : "–"));
        }
        md.AppendLine();
    }

    private static void AppendBreakdown(StringBuilder md, string dimension, GroupSummary[] groups, IReadOnlyList<string> methods)
    {
        md.AppendLine($"## By {dimension.Replace('_', ' ')}").AppendLine();
        var metrics = new (string Name, Func<MethodSummary, double?> Value, bool IsPercent)[]
        {
            ("mIoU (%)", m => m.Localisation?.MeanIoU, true),
            ("mass on lesion (%)", m => m.Localisation?.LesionMass, true),
            ("pointing game (%)", m => m.Localisation?.PointingGame, true),
            ("negative AUC, predicted", m => m.Curve("negative", "predicted")?.Auc, false),
            ("positive AUC, predicted", m => m.Curve("positive", "predicted")?.Auc, false),
        };
        foreach (var (name, value, isPercent) in metrics)
        {
            if (groups.All(g => g.Methods.All(m => value(m) is null))) continue;
            md.AppendLine($"**{name}**").AppendLine();
            Header(md, $"{dimension} (images, clean acc. %)", methods);
            foreach (var g in groups)
                Row(md, $"{g.Value} ({g.Images}, {Percent(g.CleanAccuracy)})",
                    g.Methods.Select(m => isPercent ? Percent(value(m)) : Number(value(m))));
            md.AppendLine();
        }
    }

    internal static void Header(StringBuilder md, string first, IEnumerable<string> columns)
    {
        var names = columns.ToArray();
        md.AppendLine($"| {first} | {string.Join(" | ", names)} |");
        md.AppendLine($"|---|{string.Concat(names.Select(_ => "---|"))}");
    }

    internal static void Row(StringBuilder md, string first, IEnumerable<string> cells) =>
        md.AppendLine($"| {first} | {string.Join(" | ", cells)} |");

    public static string Percent(double? fraction) => fraction is { } f && double.IsFinite(f) ? (100 * f).ToString("F2", CultureInfo.InvariantCulture) : "–";

    public static string Number(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "–";
}

/// <summary>The CVPR'21 paper's ViT-B/16 ImageNet numbers (docs/methods.md#reference-numbers, Tables 1 and 2), for comparison.</summary>
internal static class PaperNumbers
{
    /// <summary>Paper column → Dermxai method id ("" where Dermxai does not serve it).</summary>
    internal static readonly (string Paper, string Method)[] Columns =
    [
        ("rollout", "attention_rollout"), ("raw attention", "raw_attention"), ("GradCAM", "attention_gradcam"),
        ("LRP", ""), ("partial LRP", "partial_lrp"), ("Ours", "transformer_attribution"),
    ];

    private static readonly (string Row, double?[] Values)[] Perturbation =
    [
        ("negative / predicted", [53.1, 45.55, 41.52, 43.49, 50.49, 54.16]),
        ("negative / target", [null, null, 42.02, 43.49, 50.49, 55.04]),
        ("positive / predicted", [20.05, 23.99, 34.06, 41.94, 19.64, 17.03]),
        ("positive / target", [null, null, 33.56, 41.93, 19.64, 16.04]),
    ];

    private static readonly (string Row, double?[] Values)[] Segmentation =
    [
        ("pixel accuracy", [73.54, 67.84, 64.44, 51.09, 76.31, 79.70]),
        ("mAP", [84.76, 80.24, 71.60, 55.68, 84.67, 86.03]),
        ("mIoU", [55.42, 46.37, 40.82, 32.89, 57.94, 61.95]),
    ];

    internal static void AppendTables(StringBuilder md)
    {
        md.AppendLine("## For comparison: the paper's ViT-B/16 ImageNet numbers (Chefer et al. CVPR'21, Tables 1–2)").AppendLine();
        md.AppendLine("Columns name the paper's method and the Dermxai id it corresponds to (LRP = full LRP to the pixels, not served here). Different model, data and classes: compare rankings, not values.").AppendLine();
        var headers = Columns.Select(c => c.Method.Length == 0 ? c.Paper : $"{c.Paper} ({c.Method})").ToArray();
        ReportWriter.Header(md, "perturbation AUC", headers);
        foreach (var (row, values) in Perturbation) ReportWriter.Row(md, row, values.Select(ReportWriter.Number));
        md.AppendLine();
        ReportWriter.Header(md, "segmentation (%)", headers);
        foreach (var (row, values) in Segmentation) ReportWriter.Row(md, row, values.Select(ReportWriter.Number));
        md.AppendLine();
    }
}
