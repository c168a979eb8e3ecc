using System.Buffers;
using System.Numerics.Tensors;

namespace Dermxai.Attribution;

/// <summary>
/// The last-block methods' map (raw attention, partial LRP, and the GPU-reduced path of both): the mean of
/// the last layer's head-reduced readout rows over the patch columns P … N−1. With the class readout that is
/// the reference's mean_h max(0, X_{L-1})[0, 1:] read straight into the grid, as before.
/// </summary>
internal static class LastBlockReadout
{
    /// <summary>
    /// grid = Σ_r rows(L−1)[r, P:] / (<paramref name="headCount"/> · R) over the R readout rows r, where
    /// the rows are head sums of <paramref name="headCount"/> heads (1 for already reduced maps). Returns
    /// false if a value read or the result is not finite.
    /// </summary>
    public static bool Compute<TRows>(scoped ref TRows rows, AttentionShape shape, int headCount, Span<float> grid)
        where TRows : IRowSource, allows ref struct
    {
        var (first, count) = shape.ReadoutRows;
        int layer = shape.Layers - 1;
        rows.ReadRowTail(layer, first, shape.PrefixTokens, grid);
        if (count > 1)
        {
            AddRowTails(ref rows, shape, layer, first + 1, count - 1, grid);
        }
        TensorPrimitives.Divide(grid, headCount * count, grid);
        return rows.AllFinite && TensorPrimitives.IsFiniteAll(grid);
    }

    private static void AddRowTails<TRows>(scoped ref TRows rows, AttentionShape shape, int layer, int first, int count,
        Span<float> sum) where TRows : IRowSource, allows ref struct
    {
        int cells = shape.GridCells;
        float[]? rented = null;
        Span<float> tail = cells <= ClsRollout.StackTokenLimit
            ? stackalloc float[cells]
            : (rented = ArrayPool<float>.Shared.Rent(cells)).AsSpan(0, cells);
        try
        {
            for (int row = first; row < first + count; row++)
            {
                rows.ReadRowTail(layer, row, shape.PrefixTokens, tail);
                TensorPrimitives.Add(sum, tail, sum);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }
}
