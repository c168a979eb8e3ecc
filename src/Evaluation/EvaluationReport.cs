namespace Dermxai.Evaluation;

/// <summary>The result of one `dermxai-evaluate` run: every group (all images, each skin tone, each background).</summary>
public sealed record EvaluationReport
{
    public required string ModelPath { get; init; }
    public required string ModelSha256 { get; init; }
    public required string Architecture { get; init; }
    public required int ImageSize { get; init; }
    public required string DataPath { get; init; }
    public required string DataFormat { get; init; }
    public required int StartLayer { get; init; }
    /// <summary>The class every map explains, or null for each image's predicted class.</summary>
    public string? ExplainedClass { get; init; }
    public required IReadOnlyList<string> Methods { get; init; }
    /// <summary>Images that could not be read (name: reason).</summary>
    public required IReadOnlyList<string> Skipped { get; init; }
    /// <summary>The first group is "all"; then one per skin tone and per background type the data names.</summary>
    public required IReadOnlyList<GroupSummary> Groups { get; init; }
    public required double Seconds { get; init; }
    /// <summary>One record per image (for follow-up analyses).</summary>
    public required IReadOnlyList<ImageRecord> PerImage { get; init; }

    public GroupSummary All => Groups[0];
}

/// <summary>The scores of one group of images. Dimension: "all", "skin_tone" or "background".</summary>
public sealed record GroupSummary(string Dimension, string Value, int Images, double CleanAccuracy, IReadOnlyList<MethodSummary> Methods);

public sealed record MethodSummary(string Method, LocalisationSummary? Localisation, IReadOnlyList<PerturbationCurve> Curves)
{
    public PerturbationCurve? Curve(string mode, string explained) =>
        Curves.FirstOrDefault(c => c.Mode == mode && c.ExplainedClass == explained);
}

/// <summary>
/// Fractions in [0, 1]. Pixel accuracy and mIoU are accumulated over the data set; mAP, pointing game
/// and masses are means over the images that have the mask (null when none has).
/// </summary>
public sealed record LocalisationSummary(
    int ImagesWithLesion,
    double? PixelAccuracy,
    double? MeanIoU,
    double? MeanAveragePrecision,
    double? PointingGame,
    double? LesionMass,
    double? OutsideMass,
    int ImagesWithArtifacts,
    double? ArtifactMass,
    IReadOnlyDictionary<string, KindMass> ArtifactMassByKind);

/// <summary>Mean relevance mass on one artifact kind over the images that show it.</summary>
public sealed record KindMass(int Images, double Mass);

/// <summary>
/// Accuracy against the label after removing each fraction of pixels; AUC × 100 as the paper. Per step
/// also the class the perturbed images are most often predicted as, and its share (a test that pushes
/// every image to one class measures the removal, not the map).
/// </summary>
public sealed record PerturbationCurve(string Mode, string ExplainedClass, int Images, IReadOnlyList<double> Fractions,
    IReadOnlyList<double> Accuracy, double Auc, IReadOnlyList<string> TopPrediction, IReadOnlyList<double> TopPredictionShare);

/// <summary>One image's label, prediction and per-method headline scores.</summary>
public sealed record ImageRecord(string Name, string Label, string Predicted, string? SkinTone, string? Background,
    IReadOnlyList<string> Artifacts, IReadOnlyDictionary<string, ImageMethodRecord> Methods);

public sealed record ImageMethodRecord(bool? PointingHit, double? AveragePrecision, double? LesionMass, double? ArtifactMass,
    IReadOnlyDictionary<string, double> ArtifactMassByKind, double? PositiveAucPredicted, double? NegativeAucPredicted);
