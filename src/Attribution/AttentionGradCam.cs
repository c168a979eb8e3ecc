using System.Numerics.Tensors;

namespace Dermxai.Attribution;

/// <summary>
/// The reference's attention Grad-CAM (docs/methods.md#attention-gradcam) for any g×g grid (the reference hard-codes 14×14)
/// and any readout: with a_h = mean_r A_{L-1}[h, r, P:] and ∇a_h the same rows of ∇A_{L-1} (r over the
/// readout rows; the reference's r = 0, P = 1), w_h = mean_j ∇a_h[j]; cam = max(0, mean_h a_h·w_h); then
/// min–max normalised inside the method, guarded: a constant map gives zeros where the reference gives NaN.
/// </summary>
internal static class AttentionGradCam
{
    /// <summary>Writes the map of one image; returns false if a value read was not finite.</summary>
    public static bool Compute(AttentionShape shape, ReadOnlySpan<float> attn, ReadOnlySpan<float> attnGrad, int image,
        Span<float> grid)
    {
        int lastLayer = (int)shape.Offset(shape.Layers - 1, image);
        var (firstRow, rowCount) = shape.ReadoutRows;
        int cells = shape.GridCells;
        grid.Clear();
        for (int head = 0; head < shape.Heads; head++)
        {
            int firstPatches = lastLayer + head * shape.HeadStride + firstRow * shape.Tokens + shape.PrefixTokens;
            float gradientSum = 0;
            for (int r = 0; r < rowCount; r++)
            {
                var gradient = attnGrad.Slice(firstPatches + r * shape.Tokens, cells);
                if (!TensorPrimitives.IsFiniteAll(gradient))
                {
                    return false;
                }
                gradientSum += TensorPrimitives.Sum(gradient);
            }
            // w_h / R: each readout row's attention enters the row mean with weight 1/R.
            float rowWeight = gradientSum / cells / rowCount;
            for (int r = 0; r < rowCount; r++)
            {
                var attention = attn.Slice(firstPatches + r * shape.Tokens, cells);
                if (!TensorPrimitives.IsFiniteAll(attention))
                {
                    return false;
                }
                TensorPrimitives.MultiplyAdd(attention, rowWeight, grid, grid);
            }
        }
        TensorPrimitives.Divide(grid, shape.Heads, grid);
        if (!TensorPrimitives.IsFiniteAll(grid))
        {
            return false;
        }
        TensorPrimitives.Max(grid, 0f, grid);
        MapRendering.NormalizeMinMax(grid);
        return true;
    }
}
