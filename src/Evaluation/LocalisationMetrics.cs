using System.Numerics.Tensors;

namespace Dermxai.Evaluation;

/// <summary>
/// Pixel counts of one thresholded map against a binary mask, summed over a data set before the ratios
/// are taken (pixel accuracy and IoU are dataset-level in the reference, docs/methods.md#localisation-metrics).
/// </summary>
internal readonly record struct SegmentationCounts(
    long Correct, long Labelled, long BackgroundIntersection, long ForegroundIntersection, long BackgroundUnion, long ForegroundUnion)
{
    public static SegmentationCounts operator +(SegmentationCounts a, SegmentationCounts b) => new(
        a.Correct + b.Correct, a.Labelled + b.Labelled,
        a.BackgroundIntersection + b.BackgroundIntersection, a.ForegroundIntersection + b.ForegroundIntersection,
        a.BackgroundUnion + b.BackgroundUnion, a.ForegroundUnion + b.ForegroundUnion);

    public double PixelAccuracy => Labelled == 0 ? double.NaN : (double)Correct / Labelled;

    /// <summary>Mean of the background and foreground IoU (each Σ intersection / Σ union).</summary>
    public double MeanIoU => (Ratio(BackgroundIntersection, BackgroundUnion) + Ratio(ForegroundIntersection, ForegroundUnion)) / 2;

    private static double Ratio(long intersection, long union) => union == 0 ? 0 : (double)intersection / union;
}

/// <summary>Localisation scores of one map on one image (null where the image lacks the mask).</summary>
internal sealed record LocalisationScores(
    SegmentationCounts Segmentation,
    double? AveragePrecision,
    bool? PointingHit,
    double? LesionMass,
    double? ArtifactMass,
    IReadOnlyDictionary<string, double> ArtifactMassByKind,
    double? OutsideMass);

/// <summary>
/// The segmentation test of docs/methods.md#localisation-metrics (map upsampled to S×S, min-max, foreground = value &gt; mean;
/// pixel accuracy, mIoU, mAP over the 2·S·S ranking) plus the pointing game and relevance mass
/// (Arras et al.'s relevance mass accuracy: Σ relevance in a region / Σ relevance, on the raw map).
/// </summary>
internal static class LocalisationMetrics
{
    /// <summary>
    /// <paramref name="upsampled"/> is the raw map bilinearly upsampled to S×S (not normalised; every
    /// served method's map is ≥ 0). Masks are S×S.
    /// </summary>
    internal static LocalisationScores Score(ReadOnlySpan<float> upsampled, CroppedMasks masks)
    {
        var normalized = upsampled.ToArray();
        Dermxai.Attribution.MapRendering.NormalizeMinMax(normalized);
        var lesion = masks.Lesion;
        bool hasLesion = lesion is not null && Array.IndexOf(lesion, true) >= 0;
        var byKind = new Dictionary<string, double>();
        foreach (var (kind, mask) in masks.ArtifactByKind)
            if (Array.IndexOf(mask, true) >= 0 && Mass(upsampled, mask) is { } m) byKind[kind] = m;
        return new LocalisationScores(
            lesion is null ? default : Segment(normalized, lesion),
            lesion is null ? null : AveragePrecisionOfBothChannels(normalized, lesion),
            hasLesion ? PointingHit(upsampled, lesion!) : null,
            hasLesion ? Mass(upsampled, lesion!) : null,
            masks.Artifact is not null && Array.IndexOf(masks.Artifact, true) >= 0 ? Mass(upsampled, masks.Artifact) : null,
            byKind,
            lesion is null ? null : MassOutside(upsampled, lesion, masks.Artifact));
    }

    /// <summary>Foreground = value &gt; mean(map), as the reference's Res.gt(Res.mean()).</summary>
    internal static SegmentationCounts Segment(ReadOnlySpan<float> normalized, ReadOnlySpan<bool> lesion)
    {
        float threshold = TensorPrimitives.Sum(normalized) / normalized.Length;
        long correct = 0, predictedForeground = 0, trueForeground = 0, bothForeground = 0;
        for (int i = 0; i < normalized.Length; i++)
        {
            bool predicted = normalized[i] > threshold;
            if (predicted == lesion[i]) correct++;
            if (predicted) predictedForeground++;
            if (lesion[i]) trueForeground++;
            if (predicted && lesion[i]) bothForeground++;
        }
        long n = normalized.Length;
        long bothBackground = correct - bothForeground;
        long predictedBackground = n - predictedForeground, trueBackground = n - trueForeground;
        return new SegmentationCounts(correct, n,
            bothBackground, bothForeground,
            predictedBackground + trueBackground - bothBackground, predictedForeground + trueForeground - bothForeground);
    }

    /// <summary>
    /// The reference's per-image AP: scores [1 − map, map] against the one-hot truth [background,
    /// foreground], both channels flattened into one binary ranking of 2·S·S entries.
    /// </summary>
    internal static double AveragePrecisionOfBothChannels(ReadOnlySpan<float> normalized, ReadOnlySpan<bool> lesion)
    {
        int n = normalized.Length;
        var scores = new float[2 * n];
        var positives = new bool[2 * n];
        for (int i = 0; i < n; i++)
        {
            scores[i] = 1f - normalized[i];
            positives[i] = !lesion[i];
            scores[n + i] = normalized[i];
            positives[n + i] = lesion[i];
        }
        return AveragePrecision(scores, positives);
    }

    /// <summary>
    /// sklearn's average_precision_score: Σ over distinct score thresholds (high to low) of
    /// (recall_k − recall_{k−1})·precision_k; tied scores form one threshold. 0 without positives.
    /// </summary>
    internal static double AveragePrecision(ReadOnlySpan<float> scores, ReadOnlySpan<bool> positives)
    {
        long totalPositives = 0;
        foreach (bool p in positives) if (p) totalPositives++;
        if (totalPositives == 0) return 0;
        var keys = ValueOrder.Keys(scores);
        long truePositives = 0, seen = 0;
        double ap = 0, previousRecall = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            if (positives[ValueOrder.IndexOf(keys[i])]) truePositives++;
            seen++;
            if (i + 1 < keys.Length && ValueOrder.SameValue(keys[i], keys[i + 1])) continue;
            double recall = (double)truePositives / totalPositives;
            ap += (recall - previousRecall) * truePositives / seen;
            previousRecall = recall;
        }
        return ap;
    }

    /// <summary>Whether the map's maximum (first in raster order on ties) lies inside the lesion.</summary>
    internal static bool PointingHit(ReadOnlySpan<float> map, ReadOnlySpan<bool> lesion) =>
        lesion[TensorPrimitives.IndexOfMax(map)];

    /// <summary>Σ max(0, map) inside <paramref name="region"/> / Σ max(0, map); null for an all-zero map.</summary>
    internal static double? Mass(ReadOnlySpan<float> map, ReadOnlySpan<bool> region)
    {
        double inside = 0, total = 0;
        for (int i = 0; i < map.Length; i++)
        {
            float v = map[i] > 0 ? map[i] : 0;
            total += v;
            if (region[i]) inside += v;
        }
        return total > 0 ? inside / total : null;
    }

    /// <summary>The mass on neither the lesion nor an artifact (healthy skin and the scene behind it).</summary>
    private static double? MassOutside(ReadOnlySpan<float> map, bool[] lesion, bool[]? artifact)
    {
        var outside = new bool[lesion.Length];
        for (int i = 0; i < outside.Length; i++) outside[i] = !lesion[i] && !(artifact?[i] ?? false);
        return Mass(map, outside);
    }
}
