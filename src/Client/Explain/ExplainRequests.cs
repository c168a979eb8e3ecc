using Dermxai.Protocol.V1;
using Google.Protobuf;

namespace Dermxai.Client.Explain;

/// <summary>The explain request the CLI sends, from its options (shared by explain, bench and payload).</summary>
internal sealed record ExplainRequests(
    IReadOnlyList<string> Methods,
    IReadOnlyList<TargetSpec> Targets,
    int? StartLayer,
    int TopK,
    string? Colormap = null,
    float OverlayAlpha = 0,
    float FaithfulnessFraction = 0)
{
    public ExplainRequest Create(ByteString image, bool overlay, bool heatmap, string? clientTag = null)
    {
        var request = new ExplainRequest
        {
            Image = new ImageInput { Encoded = image },
            TopK = TopK,
            FaithfulnessFraction = FaithfulnessFraction,
            ClientTag = clientTag ?? "",
        };
        var outputs = new OutputOptions { OverlayPng = overlay, HeatmapPng = heatmap, Colormap = Colormap ?? "", OverlayAlpha = OverlayAlpha };
        if (!outputs.Equals(new OutputOptions())) request.Outputs = outputs; // unset rather than empty: what a hand-written request sends
        request.Methods.AddRange(Methods);
        request.Targets.AddRange(Targets.Select(t => t.Clone()));
        if (StartLayer is { } layer) request.StartLayer = layer;
        return request;
    }
}
