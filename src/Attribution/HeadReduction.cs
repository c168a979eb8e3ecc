using System.Numerics;
using System.Numerics.Tensors;

namespace Dermxai.Attribution;

/// <summary>
/// Stage 1 of a relevance method: one layer of one image, [H,N,N] → the head-reduced [N,N] map
/// Ā = mean_h f(x_h, y_h) with f given by <see cref="HeadRule"/>. <c>y</c> is used only by
/// <see cref="HeadRule.MeanClampedProduct"/> (pass an empty span otherwise). Which tensors feed x and y
/// per method: <see cref="HeadReduction.Operands"/>.
/// </summary>
public static class HeadReduction
{
    /// <summary>Reduces all N rows of one layer into <paramref name="reduced"/> ([N,N]).</summary>
    public static void ReduceLayer(HeadRule rule, ReadOnlySpan<float> x, ReadOnlySpan<float> y, int heads, int tokens,
        Span<float> reduced)
    {
        ValidateLayer(rule, x, y, heads, tokens);
        ContractValidation.RequireLength("reduced", reduced, (long)tokens * tokens, new Layout("N,N", tokens, tokens));
        var probe = Vector<float>.Zero;
        RowReduction.SumHeads(rule, x, y, tokens * tokens, heads, 0, tokens * tokens, reduced, ref probe);
        RequireFinite(probe, reduced, heads, tokens);
        TensorPrimitives.Divide(reduced, heads, reduced);
    }

    /// <summary>The contract tensors that feed x and y of <paramref name="method"/>'s head rule (its registry row).</summary>
    public static (ContractTensors X, ContractTensors Y) Operands(RelevanceMethod method)
    {
        var row = MethodRegistry.Of(method);
        return (row.X, row.Y);
    }

    private static void ValidateLayer(HeadRule rule, ReadOnlySpan<float> x, ReadOnlySpan<float> y, int heads, int tokens)
    {
        var shape = new AttentionShape(1, 1, heads, tokens);
        var layout = new Layout("H,N,N", heads, tokens, tokens);
        ContractValidation.RequireLength("x", x, shape.ImageLayerStride, layout);
        if (rule == HeadRule.MeanClampedProduct)
        {
            ContractValidation.RequireLength("y", y, shape.ImageLayerStride, layout);
        }
    }

    /// <summary>Every term finite (the probe) and no head sum overflowed (the sums).</summary>
    private static void RequireFinite(Vector<float> probe, ReadOnlySpan<float> sums, int heads, int tokens)
    {
        if (!RowReduction.IsFinite(probe) || !TensorPrimitives.IsFiniteAll(sums))
        {
            throw new ArgumentException($"The layer contains NaN or Inf; expected finite float32 values in [H,N,N] = [{heads},{tokens},{tokens}].");
        }
    }
}

/// <summary>Rows of Σ_h f(x_h, y_h) for one image, reduced on demand from [L,B,H,N,N] tensors.</summary>
internal ref struct HeadRows(HeadRule rule, ReadOnlySpan<float> x, ReadOnlySpan<float> y, AttentionShape shape, int image)
    : IRowSource
{
    private readonly ReadOnlySpan<float> x = x;
    private readonly ReadOnlySpan<float> y = y;
    private readonly AttentionShape shape = shape;
    private readonly int image = image;
    private readonly HeadRule rule = rule;
    private Vector<float> probe;

    public readonly float RowScale => 1f / shape.Heads;

    public readonly bool AllFinite => RowReduction.IsFinite(probe);

    public void ReadRows(int layer, int firstRow, int rowCount, scoped Span<float> buffer) =>
        SumHeads(layer, firstRow * shape.Tokens, rowCount * shape.Tokens, buffer);

    public void ReadRowTail(int layer, int row, int firstColumn, scoped Span<float> buffer) =>
        SumHeads(layer, row * shape.Tokens + firstColumn, shape.Tokens - firstColumn, buffer);

    private void SumHeads(int layer, int start, int count, scoped Span<float> buffer)
    {
        int layerStart = (int)shape.Offset(layer, image);
        var xLayer = x.Slice(layerStart, shape.ImageLayerStride);
        var yLayer = rule == HeadRule.MeanClampedProduct ? y.Slice(layerStart, shape.ImageLayerStride) : default;
        RowReduction.SumHeads(rule, xLayer, yLayer, shape.HeadStride, shape.Heads, start, count, buffer, ref probe);
    }
}
