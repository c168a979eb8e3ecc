using Dermxai.Protocol.V1;
using Google.Protobuf;

namespace Dermxai.Client.Explain;

/// <summary>
/// The explain request the CLI sends, from its options (shared by explain, bench and payload). The CLI's
/// 0 for --top-k, --alpha and --faithfulness means "not given": the field stays unset.
/// </summary>
internal sealed record ExplainRequests(
    IReadOnlyList<string> Methods,
    IReadOnlyList<TargetSpec> Targets,
    int? StartLayer,
    int TopK,
    string? Colormap = null,
    float OverlayAlpha = 0,
    float FaithfulnessFraction = 0)
{
    private readonly Colormap _colormap = ParseColormap(Colormap);

    /// <summary>--colormap's name (jet, turbo, viridis) as the proto enum; unset when not given.</summary>
    internal static Colormap ParseColormap(string? name) => name?.ToLowerInvariant() switch
    {
        null or "" => Protocol.V1.Colormap.Unspecified,
        "jet" => Protocol.V1.Colormap.Jet,
        "turbo" => Protocol.V1.Colormap.Turbo,
        "viridis" => Protocol.V1.Colormap.Viridis,
        _ => throw new FormatException("--colormap must be jet, turbo or viridis."),
    };

    public ExplainRequest Create(ByteString image, bool overlay, bool heatmap, string? clientTag = null)
    {
        var request = new ExplainRequest
        {
            Image = new ImageInput { Encoded = image },
            ClientTag = clientTag ?? "",
        };
        if (TopK != 0) request.TopK = TopK;
        if (FaithfulnessFraction != 0) request.FaithfulnessFraction = FaithfulnessFraction;
        var outputs = new OutputOptions { IncludeOverlayPng = overlay, IncludeHeatmapPng = heatmap, Colormap = _colormap };
        if (OverlayAlpha != 0) outputs.OverlayAlpha = OverlayAlpha;
        if (!outputs.Equals(new OutputOptions())) request.Outputs = outputs; // unset rather than empty: what a hand-written request sends
        request.Methods.AddRange(Methods);
        request.Targets.AddRange(Targets.Select(t => t.Clone()));
        if (StartLayer is { } layer) request.StartLayer = layer;
        return request;
    }
}

/// <summary>The classify request the CLI sends; --top-k 0 (not given) leaves top_k unset (the server's 5).</summary>
internal static class ClassifyRequests
{
    public static ClassifyRequest Create(ByteString image, int topK)
    {
        var request = new ClassifyRequest { Image = new ImageInput { Encoded = image } };
        if (topK != 0) request.TopK = topK;
        return request;
    }
}
