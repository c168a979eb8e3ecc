namespace Dermxai.Attribution.Benchmarks;

/// <summary>The benchmarked model shapes, batch 1 (per-image cost).</summary>
public enum ModelShape
{
    VitB16,
    VitTi16,
}

internal static class ModelShapes
{
    public static AttentionShape Of(ModelShape model) => model switch
    {
        ModelShape.VitB16 => new AttentionShape(Layers: 12, Batch: 1, Heads: 12, Tokens: 197),
        ModelShape.VitTi16 => new AttentionShape(Layers: 12, Batch: 1, Heads: 3, Tokens: 197),
        _ => throw new ArgumentOutOfRangeException(nameof(model)),
    };
}
