using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Dermxai.Attribution;

/// <summary>
/// The hot loop: dst[k] = Σ_h f(x_h[start + k], y_h[start + k]) for k &lt; count, over heads that lie
/// <c>headStride</c> apart (the 1/H of the mean is left to the caller). Heads are the outer loop, so each
/// head's range is read as one contiguous stream (two with y) while dst (at most one layer's [N,N], which
/// stays in L2) collects the sum; interleaving 2·H short row streams per row instead defeats the hardware
/// prefetcher (~1.8× the memory-read floor at ViT-B/16 shapes, against ~1.1× now).
/// A finiteness probe stays all-zero while every term is finite: it ORs in (t − t) for each unclamped
/// term t, which is NaN as soon as t is NaN or ±Inf (the clamp alone would hide a NaN or −Inf). A head
/// sum of finite terms that overflows is left for the caller to find in dst (or in what it folds dst into).
/// </summary>
internal static class RowReduction
{
    /// <summary>Ranges shorter than this many values are summed with the heads innermost.</summary>
    internal const int ShortRange = 512;

    public static void SumHeads(HeadRule rule, ReadOnlySpan<float> x, ReadOnlySpan<float> y, int headStride, int heads,
        int start, int count, Span<float> dst, ref Vector<float> probe)
    {
        long lastRead = (long)(heads - 1) * headStride + start + count;
        if (start < 0 || count < 0 || lastRead > x.Length || dst.Length < count
            || (rule == HeadRule.MeanClampedProduct && lastRead > y.Length))
        {
            throw new ArgumentException($"Range [{start}, {start + count}) of {heads} heads (stride {headStride}) lies outside the given layer span.");
        }
        switch (rule)
        {
            case HeadRule.Mean:
                SumHeads<PlainTerm>(x, x, headStride, heads, start, dst[..count], ref probe);
                break;
            case HeadRule.MeanClamped:
                SumHeads<ClampedTerm>(x, x, headStride, heads, start, dst[..count], ref probe);
                break;
            case HeadRule.MeanClampedProduct:
                SumHeads<ClampedProductTerm>(x, y, headStride, heads, start, dst[..count], ref probe);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown head rule.");
        }
    }

    public static bool IsFinite(Vector<float> probe) => Vector.EqualsAll(probe, Vector<float>.Zero);

    private static void SumHeads<TTerm>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int headStride, int heads,
        int start, Span<float> dst, ref Vector<float> probe) where TTerm : struct, IHeadTerm
    {
        int count = dst.Length;
        if (count < ShortRange)
        {
            SumHeadsInRegisters<TTerm>(x, y, headStride, heads, start, dst, ref probe);
            return;
        }
        AddHead<TTerm, Overwrite>(x.Slice(start, count), y.Slice(start, count), dst, ref probe);
        for (int head = 1, offset = start + headStride; head < heads; head++, offset += headStride)
        {
            AddHead<TTerm, Accumulate>(x.Slice(offset, count), y.Slice(offset, count), dst, ref probe);
        }
    }

    /// <summary>
    /// Heads innermost, the sums kept in registers: for ranges too short to stream (one CLS row), where
    /// H passes over dst would cost more than they save. Here the probe sees the unclamped head sum, so it
    /// also reports a sum of finite terms that overflows.
    /// </summary>
    private static void SumHeadsInRegisters<TTerm>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int headStride, int heads,
        int start, Span<float> dst, ref Vector<float> probe) where TTerm : struct, IHeadTerm
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), start);
        ref float yr = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), start);
        ref float d = ref MemoryMarshal.GetReference(dst);
        int count = dst.Length;
        int width = Vector<float>.Count;
        var bad = probe;
        int j = 0;
        for (; j <= count - width; j += width)
        {
            var sum = Vector<float>.Zero;
            var raw = Vector<float>.Zero;
            nuint offset = (nuint)j;
            for (int h = 0; h < heads; h++, offset += (nuint)headStride)
            {
                var xv = Vector.LoadUnsafe(ref xr, offset);
                var yv = TTerm.UsesSecond ? Vector.LoadUnsafe(ref yr, offset) : xv;
                sum += TTerm.Term(xv, yv, out var unclamped);
                raw += unclamped;
            }
            bad |= raw - raw;
            sum.StoreUnsafe(ref d, (nuint)j);
        }
        float scalarBad = 0;
        for (; j < count; j++)
        {
            float sum = 0, raw = 0;
            nuint offset = (nuint)j;
            for (int h = 0; h < heads; h++, offset += (nuint)headStride)
            {
                float xs = Unsafe.Add(ref xr, offset);
                float ys = TTerm.UsesSecond ? Unsafe.Add(ref yr, offset) : xs;
                sum += TTerm.Term(xs, ys, out float unclamped);
                raw += unclamped;
            }
            scalarBad += raw - raw;
            Unsafe.Add(ref d, j) = sum;
        }
        probe = bad | new Vector<float>(scalarBad);
    }

    /// <summary>dst = f(x, y) (<see cref="Overwrite"/>) or dst += f(x, y) (<see cref="Accumulate"/>), elementwise.</summary>
    private static void AddHead<TTerm, TMode>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dst,
        ref Vector<float> probe) where TTerm : struct, IHeadTerm where TMode : struct, IAccumulationMode
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float d = ref MemoryMarshal.GetReference(dst);
        int count = dst.Length;
        int width = Vector<float>.Count;
        var bad = probe;
        int j = 0;
        for (; j <= count - width; j += width)
        {
            var xv = Vector.LoadUnsafe(ref xr, (nuint)j);
            var yv = TTerm.UsesSecond ? Vector.LoadUnsafe(ref yr, (nuint)j) : xv;
            var term = TTerm.Term(xv, yv, out var unclamped);
            bad |= unclamped - unclamped;
            if (!TMode.Overwrites)
            {
                term += Vector.LoadUnsafe(ref d, (nuint)j);
            }
            term.StoreUnsafe(ref d, (nuint)j);
        }
        float scalarBad = 0;
        for (; j < count; j++)
        {
            float xs = Unsafe.Add(ref xr, j);
            float ys = TTerm.UsesSecond ? Unsafe.Add(ref yr, j) : xs;
            float term = TTerm.Term(xs, ys, out float unclamped);
            scalarBad += unclamped - unclamped;
            Unsafe.Add(ref d, j) = TMode.Overwrites ? term : Unsafe.Add(ref d, j) + term;
        }
        probe = bad | new Vector<float>(scalarBad);
    }

    private interface IAccumulationMode
    {
        static abstract bool Overwrites { get; }
    }

    private struct Overwrite : IAccumulationMode
    {
        public static bool Overwrites => true;
    }

    private struct Accumulate : IAccumulationMode
    {
        public static bool Overwrites => false;
    }

    private interface IHeadTerm
    {
        static abstract bool UsesSecond { get; }

        static abstract Vector<float> Term(Vector<float> x, Vector<float> y, out Vector<float> unclamped);

        static abstract float Term(float x, float y, out float unclamped);
    }

    private struct PlainTerm : IHeadTerm
    {
        public static bool UsesSecond => false;

        public static Vector<float> Term(Vector<float> x, Vector<float> y, out Vector<float> unclamped) => unclamped = x;

        public static float Term(float x, float y, out float unclamped) => unclamped = x;
    }

    // MaxNative (one instruction) may map NaN to 0; the probe reports NaN terms regardless.
    private struct ClampedTerm : IHeadTerm
    {
        public static bool UsesSecond => false;

        public static Vector<float> Term(Vector<float> x, Vector<float> y, out Vector<float> unclamped)
        {
            unclamped = x;
            return Vector.MaxNative(x, Vector<float>.Zero);
        }

        public static float Term(float x, float y, out float unclamped)
        {
            unclamped = x;
            return MathF.Max(x, 0f);
        }
    }

    private struct ClampedProductTerm : IHeadTerm
    {
        public static bool UsesSecond => true;

        public static Vector<float> Term(Vector<float> x, Vector<float> y, out Vector<float> unclamped)
        {
            unclamped = x * y;
            return Vector.MaxNative(unclamped, Vector<float>.Zero);
        }

        public static float Term(float x, float y, out float unclamped)
        {
            unclamped = x * y;
            return MathF.Max(unclamped, 0f);
        }
    }
}
