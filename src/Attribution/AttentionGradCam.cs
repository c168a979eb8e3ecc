using System.Numerics.Tensors;

namespace Dermxai.Attribution;

/// <summary>
/// The reference's attention Grad-CAM (docs/methods.md#attention-gradcam) for any g×g grid (the reference hard-codes 14×14):
/// w_h = mean_j ∇A_{L-1}[h,0,1+j]; cam = max(0, mean_h A_{L-1}[h,0,1+j]·w_h); then min–max normalised
/// inside the method, guarded: a constant map gives zeros where the reference gives NaN.
/// </summary>
internal static class AttentionGradCam
{
    /// <summary>Writes the map of one image; returns false if a value read was not finite.</summary>
    public static bool Compute(AttentionShape shape, ReadOnlySpan<float> attn, ReadOnlySpan<float> attnGrad, int image,
        Span<float> grid)
    {
        int lastLayer = (int)shape.Offset(shape.Layers - 1, image);
        int cells = shape.GridCells;
        grid.Clear();
        for (int head = 0; head < shape.Heads; head++)
        {
            int clsRowPatches = lastLayer + head * shape.HeadStride + 1;
            var attention = attn.Slice(clsRowPatches, cells);
            var gradient = attnGrad.Slice(clsRowPatches, cells);
            if (!TensorPrimitives.IsFiniteAll(attention) || !TensorPrimitives.IsFiniteAll(gradient))
            {
                return false;
            }
            float headWeight = TensorPrimitives.Sum(gradient) / cells;
            TensorPrimitives.MultiplyAdd(attention, headWeight, grid, grid);
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
