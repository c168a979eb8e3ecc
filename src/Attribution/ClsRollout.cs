using System.Buffers;
using System.Numerics.Tensors;

namespace Dermxai.Attribution;

/// <summary>
/// Stage 2 of every rollout method: the CLS row of C = M_{L-1} · … · M_s with M_l = Ā_l + I (optionally
/// row-normalised), folded from the left as a vector, v ← v·M_l for l = L-1 down to s, starting from
/// v = e_0. That is O(L·N²) instead of the reference's O(L·N³) matrix products, and rows i with v_i = 0
/// (all but the CLS row in the last layer) are never read.
/// </summary>
public static class ClsRollout
{
    /// <summary>Above this many tokens the three N-float scratch vectors come from the array pool.</summary>
    internal const int StackTokenLimit = 1024;

    /// <summary>
    /// Folds head-reduced maps <paramref name="layerMaps"/> ([L,N,N], layer 0 first, each Ā_l = the
    /// stage-1 head mean) into the patch columns of the CLS row: <paramref name="patchRelevance"/>
    /// receives C[0, 1:] (N − 1 values, row-major g×g). This is the whole host-side work for a graph that
    /// exports head-reduced [L,B,N,N] maps (pass one image's [L,N,N] slice).
    /// </summary>
    public static void Fold(ReadOnlySpan<float> layerMaps, int layers, int tokens, int startLayer, bool normalizeRows,
        Span<float> patchRelevance)
    {
        var shape = new AttentionShape(layers, 1, 1, tokens);
        ContractValidation.RequireLength("layerMaps", layerMaps, (long)layers * tokens * tokens,
            $"[L,N,N] = [{layers},{tokens},{tokens}]");
        ContractValidation.RequireStartLayer(startLayer, shape);
        ContractValidation.RequireLength("patchRelevance", patchRelevance, tokens - 1, $"[g*g] = [{tokens - 1}]");
        var rows = new ReducedRows(layerMaps, shape, image: 0);
        FoldWithScratch(ref rows, layers, tokens, startLayer, normalizeRows, patchRelevance);
        if (!rows.AllFinite)
        {
            throw new ArgumentException($"layerMaps contains NaN or Inf; expected finite float32 values in [L,N,N] = [{layers},{tokens},{tokens}].");
        }
    }

    internal static void FoldWithScratch<TRows>(scoped ref TRows rows, int layers, int tokens, int startLayer,
        bool normalizeRows, Span<float> patchRelevance) where TRows : IRowSource, allows ref struct
    {
        float[]? rented = null;
        Span<float> scratch = tokens <= StackTokenLimit
            ? stackalloc float[3 * tokens]
            : (rented = ArrayPool<float>.Shared.Rent(3 * tokens)).AsSpan(0, 3 * tokens);
        try
        {
            FoldCore(ref rows, layers, tokens, startLayer, normalizeRows, scratch, patchRelevance);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Writes C[0, 1:] to <paramref name="patchRelevance"/>; <paramref name="scratch"/> holds 3·N floats.</summary>
    private static void FoldCore<TRows>(scoped ref TRows rows, int layers, int tokens, int startLayer,
        bool normalizeRows, scoped Span<float> scratch, Span<float> patchRelevance) where TRows : IRowSource, allows ref struct
    {
        var v = scratch[..tokens];
        var next = scratch.Slice(tokens, tokens);
        var rowBuffer = scratch.Slice(2 * tokens, tokens);
        v.Clear();
        v[0] = 1f;
        float rowScale = rows.RowScale;
        for (int layer = layers - 1; layer >= startLayer; layer--)
        {
            next.Clear();
            for (int i = 0; i < tokens; i++)
            {
                float vi = v[i];
                if (vi == 0f)
                {
                    continue;
                }
                rows.ReadRow(layer, i, rowBuffer);
                ReadOnlySpan<float> row = rowBuffer;
                float weight = normalizeRows ? vi / (TensorPrimitives.Sum(row) * rowScale + 1f) : vi;
                TensorPrimitives.MultiplyAdd(row, weight * rowScale, next, next);
                next[i] += weight;
            }
            var swap = v;
            v = next;
            next = swap;
        }
        v[1..].CopyTo(patchRelevance);
    }
}

/// <summary>Supplies row i of layer l's head-reduced map; the mean's 1/H may be left in <see cref="RowScale"/>.</summary>
internal interface IRowSource
{
    /// <summary>Factor that turns a returned row into Ā_l[i,:].</summary>
    float RowScale { get; }

    /// <summary>False once any value read so far was NaN or ±Inf.</summary>
    bool AllFinite { get; }

    /// <summary>Writes row <paramref name="row"/> of layer <paramref name="layer"/> (N values) to <paramref name="buffer"/>.</summary>
    void ReadRow(int layer, int row, scoped Span<float> buffer);
}

/// <summary>Rows of already head-reduced maps [L,B,N,N] (the GPU-reduced path): no reduction.</summary>
internal ref struct ReducedRows(ReadOnlySpan<float> maps, AttentionShape shape, int image) : IRowSource
{
    private readonly ReadOnlySpan<float> maps = maps;
    private readonly int tokens = shape.Tokens;
    private readonly int batch = shape.Batch;
    private readonly int image = image;
    private bool allFinite = true;

    public readonly float RowScale => 1f;

    public readonly bool AllFinite => allFinite;

    public void ReadRow(int layer, int row, scoped Span<float> buffer)
    {
        long offset = (((long)layer * batch + image) * tokens + row) * tokens;
        var slice = maps.Slice((int)offset, tokens);
        if (allFinite && !TensorPrimitives.IsFiniteAll(slice))
        {
            allFinite = false;
        }
        slice.CopyTo(buffer);
    }
}
