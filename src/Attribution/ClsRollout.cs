using System.Buffers;
using System.Numerics;
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
    /// <summary>Above this many tokens the fold's scratch vectors come from the array pool instead of the stack.</summary>
    internal const int StackTokenLimit = 1024;

    /// <summary>
    /// Folds head-reduced maps <paramref name="layerMaps"/> ([L,N,N], layer 0 first, each Ā_l = the
    /// stage-1 head mean) into the patch columns of the CLS row: <paramref name="patchRelevance"/>
    /// receives C[0, 1:] (N − 1 values, row-major g×g). This is the whole host-side work for a graph that
    /// exports head-reduced [L,B,N,N] maps (pass one image's [L,N,N] slice).
    /// </summary>
    public static void Fold(ReadOnlySpan<float> layerMaps, int layers, int tokens, int startLayer, bool normalizeRows,
        Span<float> patchRelevance) =>
        FoldValidated(layerMaps, layers, tokens, startLayer, normalizeRows, patchRelevance, "patchRelevance", tokens - 1);

    /// <summary>
    /// As <see cref="Fold"/> but returns the whole CLS row C[0, :] (N values, CLS column first); with
    /// row normalisation it sums to 1.
    /// </summary>
    public static void FoldClsRow(ReadOnlySpan<float> layerMaps, int layers, int tokens, int startLayer, bool normalizeRows,
        Span<float> clsRow) =>
        FoldValidated(layerMaps, layers, tokens, startLayer, normalizeRows, clsRow, "clsRow", tokens);

    private static void FoldValidated(ReadOnlySpan<float> layerMaps, int layers, int tokens, int startLayer,
        bool normalizeRows, Span<float> output, string outputName, int outputLength)
    {
        var shape = new AttentionShape(layers, 1, 1, tokens);
        var layout = new Layout("L,N,N", layers, tokens, tokens);
        ContractValidation.RequireLength("layerMaps", layerMaps, shape.TensorLength, layout);
        ContractValidation.RequireStartLayer(startLayer, shape);
        ContractValidation.RequireLength(outputName, output, outputLength, new Layout("N", outputLength));
        var rows = new ReducedRows(layerMaps, shape, image: 0);
        FoldWithScratch(ref rows, layers, tokens, startLayer, normalizeRows, output);
        if (!rows.AllFinite)
        {
            throw new ArgumentException($"layerMaps contains NaN or Inf; expected finite float32 values in {layout}.", nameof(layerMaps));
        }
    }

    internal static void FoldWithScratch<TRows>(scoped ref TRows rows, int layers, int tokens, int startLayer,
        bool normalizeRows, Span<float> output) where TRows : IRowSource, allows ref struct
    {
        double[]? rentedVectors = null;
        float[]? rentedRow = null;
        bool small = tokens <= StackTokenLimit;
        Span<double> vectors = small
            ? stackalloc double[2 * tokens]
            : (rentedVectors = ArrayPool<double>.Shared.Rent(2 * tokens)).AsSpan(0, 2 * tokens);
        Span<float> rowBuffer = small
            ? stackalloc float[tokens]
            : (rentedRow = ArrayPool<float>.Shared.Rent(tokens)).AsSpan(0, tokens);
        try
        {
            FoldCore(ref rows, layers, tokens, startLayer, normalizeRows, vectors, rowBuffer, output);
        }
        finally
        {
            if (rentedVectors is not null)
            {
                ArrayPool<double>.Shared.Return(rentedVectors);
            }
            if (rentedRow is not null)
            {
                ArrayPool<float>.Shared.Return(rentedRow);
            }
        }
    }

    /// <summary>
    /// Writes C[0, 1:] (N − 1 values) or the whole CLS row C[0, :] (N values) to <paramref name="output"/>.
    /// The vector v is kept in double: it sums N weighted rows per layer, and float32 accumulation there
    /// alone costs a few 1e-6 of relative accuracy.
    /// </summary>
    private static void FoldCore<TRows>(scoped ref TRows rows, int layers, int tokens, int startLayer,
        bool normalizeRows, scoped Span<double> vectors, scoped Span<float> rowBuffer, Span<float> output)
        where TRows : IRowSource, allows ref struct
    {
        var v = vectors[..tokens];
        var next = vectors.Slice(tokens, tokens);
        v.Clear();
        v[0] = 1;
        double rowScale = rows.RowScale;
        for (int layer = layers - 1; layer >= startLayer; layer--)
        {
            next.Clear();
            for (int i = 0; i < tokens; i++)
            {
                double vi = v[i];
                if (vi == 0)
                {
                    continue;
                }
                rows.ReadRow(layer, i, rowBuffer);
                double weight = normalizeRows ? vi / (SumWidened(rowBuffer) * rowScale + 1) : vi;
                AddScaledWidened(rowBuffer, weight * rowScale, next);
                next[i] += weight;
            }
            var swap = v;
            v = next;
            next = swap;
        }
        var kept = v[(tokens - output.Length)..];
        for (int j = 0; j < output.Length; j++)
        {
            output[j] = (float)kept[j];
        }
    }

    /// <summary>acc += weight · row, with the float row widened to double (SIMD).</summary>
    private static void AddScaledWidened(ReadOnlySpan<float> row, double weight, Span<double> acc)
    {
        int width = Vector<float>.Count;
        var scale = new Vector<double>(weight);
        int j = 0;
        for (; j <= row.Length - width; j += width)
        {
            Vector.Widen(new Vector<float>(row[j..]), out var low, out var high);
            var accLow = new Vector<double>(acc[j..]);
            var accHigh = new Vector<double>(acc[(j + Vector<double>.Count)..]);
            (accLow + low * scale).CopyTo(acc[j..]);
            (accHigh + high * scale).CopyTo(acc[(j + Vector<double>.Count)..]);
        }
        for (; j < row.Length; j++)
        {
            acc[j] += weight * row[j];
        }
    }

    private static double SumWidened(ReadOnlySpan<float> row)
    {
        double sum = 0;
        foreach (float value in row)
        {
            sum += value;
        }
        return sum;
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
