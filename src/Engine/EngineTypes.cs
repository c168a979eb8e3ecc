namespace Dermxai.Engine;

/// <summary>One photo: encoded JPEG/PNG bytes, decoded RGB pixels, or a ready normalised tensor.</summary>
public sealed class ImageSource
{
    internal ReadOnlyMemory<byte> Encoded { get; private init; }
    internal byte[]? Rgb { get; private init; }
    internal int Width { get; private init; }
    internal int Height { get; private init; }
    internal float[]? Tensor { get; private init; }
    internal long[]? TensorShape { get; private init; }

    /// <summary>A JPEG or PNG file's bytes; EXIF orientation is applied.</summary>
    public static ImageSource FromEncoded(ReadOnlyMemory<byte> bytes) => new() { Encoded = bytes };

    /// <summary>Decoded pixels as viewed: interleaved RGB24, row-major, width × height × 3 bytes.</summary>
    public static ImageSource FromRgb24(byte[] rgb, int width, int height) =>
        new() { Rgb = rgb, Width = width, Height = height };

    /// <summary>A float32 tensor [3, S, S] already normalised with the model's mean/std.</summary>
    public static ImageSource FromTensor(float[] values, long[] shape) =>
        new() { Tensor = values, TensorShape = shape };
}

/// <summary>Which class(es) to explain.</summary>
public sealed record TargetRequest
{
    public TargetKind Kind { get; private init; }
    /// <summary>k for <see cref="TargetKind.TopK"/>, the index for <see cref="TargetKind.ClassIndex"/>.</summary>
    public int Value { get; private init; }
    public string? Label { get; private init; }

    public static TargetRequest Predicted { get; } = new() { Kind = TargetKind.Predicted };
    public static TargetRequest TopK(int k) => new() { Kind = TargetKind.TopK, Value = k };
    public static TargetRequest ClassIndex(int index) => new() { Kind = TargetKind.ClassIndex, Value = index };
    public static TargetRequest ClassLabel(string label) => new() { Kind = TargetKind.ClassLabel, Label = label };
}

public enum TargetKind { Predicted, TopK, ClassIndex, ClassLabel }

/// <summary>What an Explain call computes; defaults match the proto's defaults.</summary>
public sealed record ExplainOptions
{
    /// <summary>Method ids; empty means the default method (transformer_attribution).</summary>
    public IReadOnlyList<string> Methods { get; init; } = [];
    /// <summary>Empty means [Predicted]. Duplicate classes are explained once.</summary>
    public IReadOnlyList<TargetRequest> Targets { get; init; } = [];
    /// <summary>First block used by the rollout methods; null means 0.</summary>
    public int? StartLayer { get; init; }
    public bool HeatmapPng { get; init; }
    public bool OverlayPng { get; init; }
    /// <summary>"jet" (default), "turbo" or "viridis".</summary>
    public string? Colormap { get; init; }
    /// <summary>Heat-map opacity in (0, 1]; null means 0.5.</summary>
    public float? OverlayAlpha { get; init; }
    /// <summary>Classes in the differential, 1 or more; null means 5 (or all when fewer).</summary>
    public int? TopK { get; init; }
    /// <summary>In (0, 1): also re-classify without the most/least relevant patches. Null = off.</summary>
    public float? FaithfulnessFraction { get; init; }
}

/// <summary>One class with its score.</summary>
public readonly record struct ClassScore(int Index, string Label, float Probability, float Logit);

/// <summary>Milliseconds spent per stage of one request.</summary>
public sealed record StageTimings
{
    public double DecodeMs { get; set; }
    public double QueueMs { get; set; }
    public double InferenceMs { get; set; }
    public double AttributionMs { get; set; }
    public double RenderMs { get; set; }
    public double TotalMs { get; set; }
}

public sealed record ClassifyResult(IReadOnlyList<ClassScore> Predictions, StageTimings Timings);

public sealed record FaithfulnessResult(
    float Fraction, float Probability, float ProbabilityWithoutMostRelevant, float ProbabilityWithoutLeastRelevant);

/// <summary>One relevance map: the raw patch grid, optional PNGs and per-stage times.</summary>
public sealed record Explanation(
    string Method,
    ClassScore Target,
    bool ClassSpecific,
    int StartLayer,
    int GridRows,
    int GridCols,
    float[] Grid,
    byte[]? HeatmapPng,
    byte[]? OverlayPng,
    FaithfulnessResult? Faithfulness,
    double AttributionMs,
    double RenderMs);

public sealed record ExplainResult(
    IReadOnlyList<ClassScore> Predictions,
    IReadOnlyList<Explanation> Explanations,
    int ImageWidth,
    int ImageHeight,
    StageTimings Timings);
