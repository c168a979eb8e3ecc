namespace Dermxai.Engine;

/// <summary>
/// Pillow's separable 8-bit resampler (Resample.c), reproduced bit for bit: antialiased bicubic
/// (a = -0.5) or bilinear kernels widened by the scale when downscaling, 22-bit fixed-point weights,
/// a horizontal pass rounded to bytes, then a vertical pass. torchvision's Resize on PIL images,
/// hence timm's eval transform, calls exactly this. Only the requested output window is computed
/// (every output pixel depends on its own weights alone, so the window equals a crop of the full result).
/// </summary>
internal static class PilResampler
{
    private const int PrecisionBits = 32 - 8 - 2;

    internal enum Filter { Bilinear, Bicubic }

    /// <summary>A window of the resize of <paramref name="rgb"/> (w×h RGB24) to outW×outH.</summary>
    internal static byte[] ResizeWindow(
        ReadOnlySpan<byte> rgb, int width, int height, int outWidth, int outHeight,
        int left, int top, int windowWidth, int windowHeight, Filter filter)
    {
        bool horizontal = outWidth != width;
        bool vertical = outHeight != height;
        var cols = horizontal ? Coefficients.Compute(width, outWidth, left, windowWidth, filter) : null;
        var rows = vertical ? Coefficients.Compute(height, outHeight, top, windowHeight, filter) : null;

        // Source rows the vertical pass reads (or the window's rows when there is no vertical pass).
        int firstRow = rows?.Bounds[0] ?? top;
        int lastRow = rows is null ? top + windowHeight : MaxEnd(rows);
        int tempRows = lastRow - firstRow;

        var temp = new byte[tempRows * windowWidth * 3];
        for (int y = 0; y < tempRows; y++)
        {
            var src = rgb.Slice((firstRow + y) * width * 3, width * 3);
            var dst = temp.AsSpan(y * windowWidth * 3, windowWidth * 3);
            if (cols is null) src.Slice(left * 3, windowWidth * 3).CopyTo(dst);
            else ResampleRow(src, cols, dst);
        }
        if (rows is null) return temp;

        var result = new byte[windowHeight * windowWidth * 3];
        int stride = windowWidth * 3;
        for (int y = 0; y < windowHeight; y++)
        {
            int start = rows.Bounds[2 * y] - firstRow, count = rows.Bounds[2 * y + 1];
            var weights = rows.Weights.AsSpan(y * rows.KernelSize, count);
            var dst = result.AsSpan(y * stride, stride);
            for (int x = 0; x < stride; x++)
            {
                int sum = 1 << (PrecisionBits - 1);
                for (int k = 0; k < count; k++) sum += temp[(start + k) * stride + x] * weights[k];
                dst[x] = Clip8(sum);
            }
        }
        return result;
    }

    private static void ResampleRow(ReadOnlySpan<byte> src, Coefficients cols, Span<byte> dst)
    {
        int outCount = dst.Length / 3;
        for (int x = 0; x < outCount; x++)
        {
            int start = cols.Bounds[2 * x], count = cols.Bounds[2 * x + 1];
            var weights = cols.Weights.AsSpan(x * cols.KernelSize, count);
            int r = 1 << (PrecisionBits - 1), g = r, b = r;
            for (int k = 0; k < count; k++)
            {
                int p = (start + k) * 3, w = weights[k];
                r += src[p] * w; g += src[p + 1] * w; b += src[p + 2] * w;
            }
            dst[3 * x] = Clip8(r); dst[3 * x + 1] = Clip8(g); dst[3 * x + 2] = Clip8(b);
        }
    }

    private static int MaxEnd(Coefficients c)
    {
        int end = 0;
        for (int i = 0; i < c.Bounds.Length; i += 2) end = Math.Max(end, c.Bounds[i] + c.Bounds[i + 1]);
        return end;
    }

    private static byte Clip8(int value)
    {
        int shifted = value >> PrecisionBits;
        return (byte)Math.Clamp(shifted, 0, 255);
    }

    /// <summary>Per output pixel: first source index, tap count and fixed-point weights (Pillow's precompute_coeffs).</summary>
    private sealed class Coefficients
    {
        public required int KernelSize { get; init; }
        public required int[] Bounds { get; init; }
        public required int[] Weights { get; init; }

        public static Coefficients Compute(int inSize, int outSize, int first, int count, Filter filter)
        {
            double support0 = filter == Filter.Bicubic ? 2.0 : 1.0;
            double scale = (double)inSize / outSize;
            double filterScale = Math.Max(scale, 1.0);
            double support = support0 * filterScale;
            int kernelSize = (int)Math.Ceiling(support) * 2 + 1;
            var bounds = new int[count * 2];
            var weights = new int[count * kernelSize];
            var taps = new double[kernelSize];
            for (int i = 0; i < count; i++)
            {
                int xx = first + i;
                double center = (xx + 0.5) * scale;
                double ss = 1.0 / filterScale;
                int xmin = Math.Max((int)(center - support + 0.5), 0);
                int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
                double total = 0;
                for (int x = 0; x < xmax; x++)
                {
                    double w = Kernel(filter, (x + xmin - center + 0.5) * ss);
                    taps[x] = w;
                    total += w;
                }
                for (int x = 0; x < xmax; x++)
                {
                    double w = total != 0 ? taps[x] / total : taps[x];
                    weights[i * kernelSize + x] = w < 0
                        ? (int)(-0.5 + w * (1 << PrecisionBits))
                        : (int)(0.5 + w * (1 << PrecisionBits));
                }
                bounds[2 * i] = xmin;
                bounds[2 * i + 1] = xmax;
            }
            return new Coefficients { KernelSize = kernelSize, Bounds = bounds, Weights = weights };
        }

        private static double Kernel(Filter filter, double x)
        {
            x = Math.Abs(x);
            if (filter == Filter.Bilinear) return x < 1.0 ? 1.0 - x : 0.0;
            const double a = -0.5;
            if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
            if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
            return 0.0;
        }
    }
}
