using Dermxai.Attribution;
using Dermxai.Engine;
using Google.Protobuf;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Server;

/// <summary>Proto messages ⇄ engine records; no logic beyond the proto's documented defaults.</summary>
internal static class ProtoMapping
{
    internal static ImageSource ToImageSource(Proto.ImageInput? image) => image?.SourceCase switch
    {
        Proto.ImageInput.SourceOneofCase.Encoded => ImageSource.FromEncoded(image.Encoded.Memory),
        Proto.ImageInput.SourceOneofCase.Tensor => ImageSource.FromTensor(image.Tensor.Values.ToArray(), image.Tensor.Shape.ToArray()),
        _ => throw EngineException.Invalid(ErrorReasons.ImageMissing, "image", "The request has no image; set image.encoded or image.tensor."),
    };

    /// <summary>The engine's options; the request's strings are checked against their limits first.</summary>
    internal static ExplainOptions ToExplainOptions(Proto.ExplainRequest request)
    {
        RequestLimits.Check(request);
        return Options(request);
    }

    private static ExplainOptions Options(Proto.ExplainRequest request) => new()
    {
        Methods = request.Methods.ToArray(),
        Targets = request.Targets.Select(ToTarget).ToArray(),
        StartLayer = request.HasStartLayer ? request.StartLayer : null,
        HeatmapPng = request.Outputs?.IncludeHeatmapPng ?? false,
        OverlayPng = request.Outputs?.IncludeOverlayPng ?? false,
        Colormap = ToColormapName(request.Outputs?.Colormap ?? Proto.Colormap.Unspecified),
        OverlayAlpha = request.Outputs is { HasOverlayAlpha: true } outputs ? outputs.OverlayAlpha : null,
        TopK = request.HasTopK ? request.TopK : null,
        FaithfulnessFraction = request.HasFaithfulnessFraction ? request.FaithfulnessFraction : null,
    };

    private static TargetRequest ToTarget(Proto.TargetSpec spec, int i) => spec.KindCase switch
    {
        Proto.TargetSpec.KindOneofCase.Predicted => TargetRequest.Predicted,
        Proto.TargetSpec.KindOneofCase.TopClasses => TargetRequest.TopK(spec.TopClasses),
        Proto.TargetSpec.KindOneofCase.ClassIndex => TargetRequest.ClassIndex(spec.ClassIndex),
        Proto.TargetSpec.KindOneofCase.ClassLabel => TargetRequest.ClassLabel(spec.ClassLabel),
        _ => throw EngineException.Invalid(ErrorReasons.TargetUnset, $"targets[{i}]",
            $"targets[{i}] has no kind; set predicted, top_classes, class_index or class_label."),
    };

    /// <summary>The engine's colormap name; an enum number this server does not know is refused.</summary>
    private static string ToColormapName(Proto.Colormap colormap) => colormap switch
    {
        Proto.Colormap.Unspecified or Proto.Colormap.Jet => "jet",
        Proto.Colormap.Turbo => "turbo",
        Proto.Colormap.Viridis => "viridis",
        _ => throw EngineException.Invalid(ErrorReasons.UnknownColormap, "outputs.colormap",
            $"Unknown colormap {(int)colormap}; use COLORMAP_JET, COLORMAP_TURBO or COLORMAP_VIRIDIS."),
    };

    internal static Proto.ClassifyResponse ToResponse(ClassifyResult result, string requestId, string modelSha) => new()
    {
        RequestId = requestId,
        Predictions = { result.Predictions.Select(ToProto) },
        ModelSha256 = modelSha,
        Timings = ToProto(result.Timings),
    };

    internal static Proto.ExplainResponse ToResponse(ExplainResult result, Proto.ExplainRequest request, string requestId, string modelSha) => new()
    {
        RequestId = requestId,
        Predictions = { result.Predictions.Select(ToProto) },
        Explanations = { result.Explanations.Select(ToProto) },
        ModelSha256 = modelSha,
        Timings = ToProto(result.Timings),
        ImageWidth = result.ImageWidth,
        ImageHeight = result.ImageHeight,
        ClientTag = request.ClientTag,
    };

    private static Proto.Explanation ToProto(Explanation e)
    {
        var proto = new Proto.Explanation
        {
            Method = e.Method,
            Target = ToProto(e.Target),
            ClassSpecific = e.ClassSpecific,
            StartLayer = e.StartLayer,
            Grid = new Proto.Grid { Rows = e.GridRows, Cols = e.GridCols, Values = { e.Grid } },
        };
        if (e.HeatmapPng is not null) proto.HeatmapPng = UnsafeByteOperations.UnsafeWrap(e.HeatmapPng);
        if (e.OverlayPng is not null) proto.OverlayPng = UnsafeByteOperations.UnsafeWrap(e.OverlayPng);
        if (e.Faithfulness is { } f)
            proto.Faithfulness = new Proto.Faithfulness
            {
                Fraction = f.Fraction,
                Probability = f.Probability,
                ProbabilityWithoutMostRelevant = f.ProbabilityWithoutMostRelevant,
                ProbabilityWithoutLeastRelevant = f.ProbabilityWithoutLeastRelevant,
            };
        return proto;
    }

    private static Proto.ClassScore ToProto(ClassScore s) =>
        new() { Index = s.Index, Label = s.Label, Probability = s.Probability, Logit = s.Logit };

    private static Proto.Timings ToProto(StageTimings t) => new()
    {
        DecodeMs = t.DecodeMs, QueueMs = t.QueueMs, InferenceMs = t.InferenceMs,
        AttributionMs = t.AttributionMs, RenderMs = t.RenderMs, TotalMs = t.TotalMs,
    };

    internal static Proto.ModelInfo ToModelInfo(DermxaiEngine engine)
    {
        var m = engine.Model;
        var o = engine.Options;
        return new Proto.ModelInfo
        {
            Labels = { m.Labels },
            ImageSize = m.ImageSize,
            PatchSize = m.PatchSize,
            GridSize = m.GridSize,
            NumLayers = m.NumLayers,
            NumHeads = m.NumHeads,
            Mean = { m.Mean.Select(v => (float)v) },
            Std = { m.Std.Select(v => (float)v) },
            CropPct = (float)m.CropPct,
            Interpolation = m.Interpolation == "bilinear" ? Proto.Interpolation.Bilinear : Proto.Interpolation.Bicubic,
            Architecture = m.Architecture,
            ModelSha256 = m.ModelSha256,
            CheckpointSha256 = m.CheckpointSha256,
            ContractVersion = ModelDescription.ContractVersion,
            Methods = { MethodRegistry.All.Select(ToMethodInfo) },
            Device = engine.Device == "cuda" ? Proto.Device.Cuda : Proto.Device.Cpu,
            CreatedBy = m.CreatedBy,
            MaxBatchSize = o.MaxBatchSize,
            MaxImageBytes = o.ImageLimits.MaxBytes,
            MaxImagePixels = o.ImageLimits.MaxPixels,
        };
    }

    private static Proto.MethodInfo ToMethodInfo(RelevanceMethodDescriptor m) => new()
    {
        Id = m.Id,
        Description = m.Description,
        ClassSpecific = m.ClassSpecific,
        UsesStartLayer = m.UsesStartLayer,
        IsDefault = m.Method == RelevanceMethods.Default,
    };
}
