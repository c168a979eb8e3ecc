using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Dermxai.Attribution;

/// <summary>
/// Stage 2 of every rollout method: the readout row r·C of C = M_{L-1} · … · M_s with M_l = Ā_l + I
/// (optionally row-normalised), folded from the left as a vector, v ← v·M_l for l = L-1 down to s,
/// starting from v = r, the readout's row weights (e_0 for the class token, the reference's CLS row).
/// That is O(L·N²) instead of the reference's O(L·N³) matrix products, and rows i with v_i = 0 (in the
/// last layer, all but the readout rows) are never read.
/// </summary>
public static class ClsRollout
{
    /// <summary>Above this many tokens the fold's scratch vectors come from the array pool instead of the stack.</summary>
    internal const int StackTokenLimit = 1024;

    /// <summary>Layers of at most this many values (N²) are reduced into a stack buffer, larger ones into a pooled one.</summary>
    internal const int StackLayerLimit = 4096;

    /// <summary>Rows folded into v per pass over it.</summary>
    private const int RowsPerPass = 4;

    /// <summary>
    /// Folds head-reduced maps <paramref name="layerMaps"/> ([L,N,N], layer 0 first, each Ā_l = the
    /// stage-1 head mean) into the whole CLS row: <paramref name="clsRow"/> receives C[0, :] (N values,
    /// CLS column first; the patch columns C[0, 1:] are row-major g×g); with row normalisation it sums
    /// to 1. This is the whole host-side work for a graph that exports head-reduced [L,B,N,N] maps
    /// (pass one image's [L,N,N] slice).
    /// </summary>
    public static void FoldClsRow(ReadOnlySpan<float> layerMaps, int layers, int tokens, int startLayer, bool normalizeRows,
        Span<float> clsRow)
    {
        var shape = new AttentionShape(layers, 1, 1, tokens);
        var layout = new Layout("L,N,N", layers, tokens, tokens);
        ContractValidation.RequireLength("layerMaps", layerMaps, shape.TensorLength, layout);
        ContractValidation.RequireStartLayer(startLayer, shape);
        ContractValidation.RequireLength("clsRow", clsRow, tokens, new Layout("N", tokens));
        var rows = new ReducedRows(layerMaps, shape, image: 0);
        bool finite = FoldWithScratch(ref rows, shape, startLayer, normalizeRows, clsRow);
        if (!finite || !rows.AllFinite)
        {
            throw new ArgumentException($"layerMaps contains NaN or Inf; expected finite float32 values in {layout}.", nameof(layerMaps));
        }
    }

    /// <summary>
    /// Runs the fold over <paramref name="shape"/>'s layers from its readout rows, with stack or pooled
    /// scratch; returns false if the folded vector is not finite.
    /// </summary>
    internal static bool FoldWithScratch<TRows>(scoped ref TRows rows, AttentionShape shape, int startLayer,
        bool normalizeRows, Span<float> output) where TRows : IRowSource, allows ref struct
    {
        int tokens = shape.Tokens;
        double[]? rentedVectors = null;
        float[]? rentedLayer = null;
        int layerLength = tokens * tokens;
        Span<double> vectors = tokens <= StackTokenLimit
            ? stackalloc double[2 * tokens]
            : (rentedVectors = ArrayPool<double>.Shared.Rent(2 * tokens)).AsSpan(0, 2 * tokens);
        Span<float> layerRows = layerLength <= StackLayerLimit
            ? stackalloc float[layerLength]
            : (rentedLayer = ArrayPool<float>.Shared.Rent(layerLength)).AsSpan(0, layerLength);
        try
        {
            return FoldCore(ref rows, shape.Layers, tokens, shape.ReadoutRows, startLayer, normalizeRows, vectors, layerRows, output);
        }
        finally
        {
            if (rentedVectors is not null)
            {
                ArrayPool<double>.Shared.Return(rentedVectors);
            }
            if (rentedLayer is not null)
            {
                ArrayPool<float>.Shared.Return(rentedLayer);
            }
        }
    }

    /// <summary>
    /// Writes the patch columns of r·C (the last output.Length of its N values) to <paramref name="output"/>;
    /// returns false if r·C is not finite (a head sum overflowed). The vector v is kept in double: it
    /// sums N weighted rows per layer, and float32 accumulation there alone costs a few 1e-6 of relative
    /// accuracy. Each run of consecutive rows with v_i ≠ 0 (rows with v_i = 0 add nothing and are not read)
    /// is reduced at once into <paramref name="layerRows"/> ([N,N]; below the last layer a run is usually the
    /// whole layer), so that the source streams each head's rows contiguously: at ViT-B/16 shapes that is
    /// 1.3–1.5× faster than blocks of 20–80 rows, which restart the streams at every head.
    /// </summary>
    private static bool FoldCore<TRows>(scoped ref TRows rows, int layers, int tokens, (int First, int Count) readoutRows, int startLayer,
        bool normalizeRows, scoped Span<double> vectors, scoped Span<float> layerRows, Span<float> output)
        where TRows : IRowSource, allows ref struct
    {
        var v = vectors[..tokens];
        var next = vectors.Slice(tokens, tokens);
        v.Clear();
        v.Slice(readoutRows.First, readoutRows.Count).Fill(1.0 / readoutRows.Count);
        double rowScale = rows.RowScale;
        for (int layer = layers - 1; layer >= startLayer; layer--)
        {
            next.Clear();
            for (var (first, count) = NextRun(v, 0); count > 0; (first, count) = NextRun(v, first + count))
            {
                var run = layerRows.Slice(first * tokens, count * tokens);
                rows.ReadRows(layer, first, count, run);
                FoldRun(run, v, first, count, rowScale, normalizeRows, next);
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
        return TensorPrimitives.IsFiniteAll<double>(v);
    }

    /// <summary>The next run of consecutive rows i ≥ <paramref name="from"/> with v_i ≠ 0 (Count 0: none left).</summary>
    private static (int First, int Count) NextRun(ReadOnlySpan<double> v, int from)
    {
        int first = from;
        while (first < v.Length && v[first] == 0)
        {
            first++;
        }
        int end = first;
        while (end < v.Length && v[end] != 0)
        {
            end++;
        }
        return (first, end - first);
    }

    /// <summary>next += Σ_i w_i·(rowScale·run_i + e_i) over the run's rows i = first … first+count−1.</summary>
    private static void FoldRun(ReadOnlySpan<float> run, ReadOnlySpan<double> v, int first, int count, double rowScale,
        bool normalizeRows, Span<double> next)
    {
        int tokens = next.Length;
        Span<double> scaledWeights = stackalloc double[RowsPerPass];
        for (int k = 0; k < count; k += RowsPerPass)
        {
            int passRows = Math.Min(RowsPerPass, count - k);
            var pass = run.Slice(k * tokens, passRows * tokens);
            for (int r = 0; r < passRows; r++)
            {
                int i = first + k + r;
                double weight = normalizeRows ? v[i] / (TensorPrimitives.Sum(pass.Slice(r * tokens, tokens)) * rowScale + 1) : v[i];
                scaledWeights[r] = weight * rowScale;
                next[i] += weight;
            }
            AddScaledRowsWidened(pass, scaledWeights[..passRows], next);
        }
    }

    /// <summary>
    /// acc += Σ_r weights[r] · rows[r] for rows [weights.Length, N], the float rows widened to double (SIMD).
    /// Several rows per pass keep acc in registers instead of loading and storing it once per row.
    /// </summary>
    private static void AddScaledRowsWidened(ReadOnlySpan<float> rows, ReadOnlySpan<double> weights, Span<double> acc)
    {
        int n = acc.Length;
        ref float r0 = ref MemoryMarshal.GetReference(rows);
        ref double a = ref MemoryMarshal.GetReference(acc);
        int width = Vector<float>.Count;
        int half = Vector<double>.Count;
        int j = 0;
        for (; j <= n - width; j += width)
        {
            var low = Vector.LoadUnsafe(ref a, (nuint)j);
            var high = Vector.LoadUnsafe(ref a, (nuint)(j + half));
            for (int r = 0; r < weights.Length; r++)
            {
                Vector.Widen(Vector.LoadUnsafe(ref r0, (nuint)(r * n + j)), out var rowLow, out var rowHigh);
                var weight = new Vector<double>(weights[r]);
                low = Vector.MultiplyAddEstimate(rowLow, weight, low);
                high = Vector.MultiplyAddEstimate(rowHigh, weight, high);
            }
            low.StoreUnsafe(ref a, (nuint)j);
            high.StoreUnsafe(ref a, (nuint)(j + half));
        }
        for (; j < n; j++)
        {
            double sum = acc[j];
            for (int r = 0; r < weights.Length; r++)
            {
                sum += weights[r] * rows[r * n + j];
            }
            acc[j] = sum;
        }
    }
}

/// <summary>Supplies row i of layer l's head-reduced map; the mean's 1/H may be left in <see cref="RowScale"/>.</summary>
internal interface IRowSource
{
    /// <summary>Factor that turns a returned row into Ā_l[i,:].</summary>
    float RowScale { get; }

    /// <summary>False once any value read so far was NaN or ±Inf.</summary>
    bool AllFinite { get; }

    /// <summary>Writes rows firstRow … firstRow+rowCount−1 of layer <paramref name="layer"/> (rowCount·N values) to <paramref name="buffer"/>.</summary>
    void ReadRows(int layer, int firstRow, int rowCount, scoped Span<float> buffer);

    /// <summary>Writes columns firstColumn … N−1 of row <paramref name="row"/> of layer <paramref name="layer"/> to <paramref name="buffer"/>.</summary>
    void ReadRowTail(int layer, int row, int firstColumn, scoped Span<float> buffer);
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

    public void ReadRows(int layer, int firstRow, int rowCount, scoped Span<float> buffer) =>
        Copy(RowOffset(layer, firstRow), rowCount * tokens, buffer);

    public void ReadRowTail(int layer, int row, int firstColumn, scoped Span<float> buffer) =>
        Copy(RowOffset(layer, row) + firstColumn, tokens - firstColumn, buffer);

    private readonly long RowOffset(int layer, int row) => (((long)layer * batch + image) * tokens + row) * tokens;

    private void Copy(long offset, int count, scoped Span<float> buffer)
    {
        var slice = maps.Slice((int)offset, count);
        if (allFinite && !TensorPrimitives.IsFiniteAll(slice))
        {
            allFinite = false;
        }
        slice.CopyTo(buffer);
    }
}
