using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Dermxai.Attribution;

/// <summary>
/// The hot loop: one row i of Σ_h f(x_h[i,:], y_h[i,:]) over heads that lie <c>headStride</c> apart,
/// SIMD over columns with the head sum kept in a register (the 1/H of the mean is left to the caller).
/// It also accumulates a finiteness probe that stays all-zero while every value read is finite: it
/// adds (s − s) for the unclamped head sum s, which is NaN as soon as any term is NaN or ±Inf (the
/// clamp alone would hide a NaN or −Inf).
/// </summary>
internal static class RowReduction
{
    public static void SumHeads(HeadRule rule, ReadOnlySpan<float> x, ReadOnlySpan<float> y, int headStride, int heads,
        int rowStart, int count, Span<float> dst, ref Vector<float> probe)
    {
        long lastRead = (long)(heads - 1) * headStride + rowStart + count;
        if (rowStart < 0 || lastRead > x.Length || dst.Length < count
            || (rule == HeadRule.MeanClampedProduct && lastRead > y.Length))
        {
            throw new ArgumentException($"Row [{rowStart}, {rowStart + count}) of {heads} heads (stride {headStride}) lies outside the given layer span.");
        }
        switch (rule)
        {
            case HeadRule.Mean:
                Sum<PlainTerm>(x, x, headStride, heads, rowStart, count, dst, ref probe);
                break;
            case HeadRule.MeanClamped:
                Sum<ClampedTerm>(x, x, headStride, heads, rowStart, count, dst, ref probe);
                break;
            case HeadRule.MeanClampedProduct:
                Sum<ClampedProductTerm>(x, y, headStride, heads, rowStart, count, dst, ref probe);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown head rule.");
        }
    }

    public static bool IsFinite(Vector<float> probe) => Vector.EqualsAll(probe, Vector<float>.Zero);

    private static void Sum<TTerm>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, int headStride, int heads,
        int rowStart, int count, Span<float> dst, ref Vector<float> probe) where TTerm : struct, IHeadTerm
    {
        ref float xr = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), rowStart);
        ref float yr = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), rowStart);
        ref float d = ref MemoryMarshal.GetReference(dst);
        int width = Vector<float>.Count;
        int j = 0;
        for (; j <= count - width; j += width)
        {
            var reduced = Vector<float>.Zero;
            var raw = Vector<float>.Zero;
            nuint offset = (nuint)j;
            for (int h = 0; h < heads; h++, offset += (nuint)headStride)
            {
                var xv = Vector.LoadUnsafe(ref xr, offset);
                var yv = TTerm.UsesSecond ? Vector.LoadUnsafe(ref yr, offset) : xv;
                reduced += TTerm.Term(xv, yv, out var unclamped);
                raw += unclamped;
            }
            probe += raw - raw;
            reduced.StoreUnsafe(ref d, (nuint)j);
        }
        float scalarProbe = 0;
        for (; j < count; j++)
        {
            float reduced = 0, raw = 0;
            nuint offset = (nuint)j;
            for (int h = 0; h < heads; h++, offset += (nuint)headStride)
            {
                float xs = Unsafe.Add(ref xr, offset);
                float ys = TTerm.UsesSecond ? Unsafe.Add(ref yr, offset) : xs;
                reduced += TTerm.Term(xs, ys, out float unclamped);
                raw += unclamped;
            }
            scalarProbe += raw - raw;
            Unsafe.Add(ref d, j) = reduced;
        }
        probe += new Vector<float>(scalarProbe);
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

    private struct ClampedTerm : IHeadTerm
    {
        public static bool UsesSecond => false;

        public static Vector<float> Term(Vector<float> x, Vector<float> y, out Vector<float> unclamped)
        {
            unclamped = x;
            return Vector.Max(x, Vector<float>.Zero);
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
            return Vector.Max(unclamped, Vector<float>.Zero);
        }

        public static float Term(float x, float y, out float unclamped)
        {
            unclamped = x * y;
            return MathF.Max(unclamped, 0f);
        }
    }
}
