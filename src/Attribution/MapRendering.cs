using System.Buffers;
using System.Numerics.Tensors;

namespace Dermxai.Attribution;

/// <summary>Display helpers for a relevance grid (docs/methods.md#display, without the reference's display quirks).</summary>
public static class MapRendering
{
    /// <summary>
    /// (v − min)/(max − min) in place. A constant map becomes all zeros (the reference divides 0/0 and
    /// returns NaN). Throws <see cref="ArgumentException"/> on NaN/Inf input.
    /// </summary>
    public static void NormalizeMinMax(Span<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }
        float min = TensorPrimitives.Min(values);
        float max = TensorPrimitives.Max(values);
        if (!float.IsFinite(min) || !float.IsFinite(max))
        {
            throw new ArgumentException($"values contains NaN or Inf; expected finite floats (a map of {values.Length} values).", nameof(values));
        }
        float range = max - min;
        if (range == 0f || !float.IsFinite(range))
        {
            values.Clear();
            return;
        }
        TensorPrimitives.Subtract(values, min, values);
        TensorPrimitives.Divide(values, range, values);
    }

    /// <summary>
    /// Bilinear resize as PyTorch's F.interpolate(mode='bilinear', align_corners=False) with an explicit
    /// output size (for an integer scale factor s, size = s·input gives the same sampling positions):
    /// source coordinate (d + 0.5)·in/out − 0.5, clamped at 0, neighbours clamped at the last row/column.
    /// <paramref name="src"/> is [srcRows, srcCols], <paramref name="dst"/> [dstRows, dstCols], row-major.
    /// </summary>
    public static void UpsampleBilinear(ReadOnlySpan<float> src, int srcRows, int srcCols, Span<float> dst, int dstRows,
        int dstCols)
    {
        if (srcRows < 1 || srcCols < 1 || dstRows < 1 || dstCols < 1)
        {
            throw new ArgumentException($"Upsampling needs positive sizes; got src [{srcRows},{srcCols}] and dst [{dstRows},{dstCols}].");
        }
        ContractValidation.RequireLength("src", src, (long)srcRows * srcCols, new Layout("rows,cols", srcRows, srcCols));
        ContractValidation.RequireLength("dst", dst, (long)dstRows * dstCols, new Layout("rows,cols", dstRows, dstCols));
        float[] rented = ArrayPool<float>.Shared.Rent(srcRows * dstCols);
        try
        {
            var horizontal = rented.AsSpan(0, srcRows * dstCols);
            ResampleRows(src, srcRows, srcCols, horizontal, dstCols);
            float rowScale = (float)srcRows / dstRows;
            for (int row = 0; row < dstRows; row++)
            {
                var (top, bottom, bottomWeight) = SourceTaps(row, rowScale, srcRows);
                var output = dst.Slice(row * dstCols, dstCols);
                TensorPrimitives.Multiply(horizontal.Slice(top * dstCols, dstCols), 1f - bottomWeight, output);
                TensorPrimitives.MultiplyAdd(horizontal.Slice(bottom * dstCols, dstCols), bottomWeight, output, output);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Colours normalised values: level = (int)(255·v) truncated as the reference's np.uint8(255*m)
    /// (values outside [0,1] clamp, NaN → level 0), then the colormap's 256-entry table.
    /// <paramref name="rgb"/> receives interleaved RGB24 (3 bytes per value).
    /// </summary>
    public static void ApplyColormap(ReadOnlySpan<float> normalized, Colormap map, Span<byte> rgb)
    {
        var lut = ColormapTables.Lut(map);
        RequireBytes("rgb", rgb.Length, 3L * normalized.Length, $"3 bytes (RGB) per value of {normalized.Length} values");
        for (int i = 0; i < normalized.Length; i++)
        {
            int level = Level(normalized[i]);
            lut.Slice(level * 3, 3).CopyTo(rgb.Slice(i * 3, 3));
        }
    }

    /// <summary>
    /// dst = round((1 − α)·photo + α·heat) per byte, both interleaved RGB24 and both in RGB order (the
    /// reference notebook instead adds BGR heat to an RGB photo and swaps the result, turning the photo's
    /// red and blue around, docs/methods.md#display; it also uses a 1:1 sum renormalised by its maximum).
    /// </summary>
    public static void BlendOverlay(ReadOnlySpan<byte> photoRgb, ReadOnlySpan<byte> heatRgb, float alpha, Span<byte> dst)
    {
        if (!(alpha >= 0f && alpha <= 1f))
        {
            throw new ArgumentException($"alpha must be in [0, 1]; got {alpha}.", nameof(alpha));
        }
        if (photoRgb.Length % 3 != 0)
        {
            throw new ArgumentException($"photoRgb has {photoRgb.Length} bytes; expected interleaved RGB24 (a multiple of 3).", nameof(photoRgb));
        }
        RequireBytes("heatRgb", heatRgb.Length, photoRgb.Length, "the photo's RGB24 length");
        RequireBytes("dst", dst.Length, photoRgb.Length, "the photo's RGB24 length");
        float photoWeight = 1f - alpha;
        for (int i = 0; i < photoRgb.Length; i++)
        {
            float blended = photoWeight * photoRgb[i] + alpha * heatRgb[i];
            dst[i] = (byte)Math.Clamp(MathF.Round(blended), 0f, 255f);
        }
    }

    /// <summary>
    /// Otsu's threshold on the 256 levels (int)(255·v), as cv2.threshold(uint8(255*m), 0, 255,
    /// THRESH_BINARY + THRESH_OTSU) chooses it (first level t maximising the between-class variance;
    /// foreground = level &gt; t). Returned in normalised units as (t + 1)/255, so that foreground is
    /// value ≥ threshold (use <see cref="ThresholdMask"/>).
    /// </summary>
    public static float OtsuThreshold(ReadOnlySpan<float> normalized)
    {
        if (normalized.IsEmpty)
        {
            throw new ArgumentException("normalized is empty; expected a map of at least one value.", nameof(normalized));
        }
        Span<int> histogram = stackalloc int[256];
        histogram.Clear();
        foreach (float v in normalized)
        {
            histogram[Level(v)]++;
        }
        return (OtsuLevel(histogram, normalized.Length) + 1) / 255f;
    }

    /// <summary>mask[i] = values[i] ≥ threshold (the foreground of <see cref="OtsuThreshold"/>).</summary>
    public static void ThresholdMask(ReadOnlySpan<float> values, float threshold, Span<bool> mask)
    {
        RequireBytes("mask", mask.Length, values.Length, "one entry per value");
        for (int i = 0; i < values.Length; i++)
        {
            mask[i] = values[i] >= threshold;
        }
    }

    /// <summary>
    /// Marks the k = round(fraction·n) largest values (ties at the cut broken by lower index first).
    /// fraction in [0, 1].
    /// </summary>
    public static void TopFractionMask(ReadOnlySpan<float> values, float fraction, Span<bool> mask)
    {
        if (!(fraction >= 0f && fraction <= 1f))
        {
            throw new ArgumentException($"fraction must be in [0, 1]; got {fraction}.", nameof(fraction));
        }
        RequireBytes("mask", mask.Length, values.Length, "one entry per value");
        if (!TensorPrimitives.IsFiniteAll(values))
        {
            throw new ArgumentException($"values contains NaN or Inf; expected finite floats (a map of {values.Length} values).", nameof(values));
        }
        int keep = (int)Math.Round((double)fraction * values.Length);
        mask.Clear();
        if (keep == 0)
        {
            return;
        }
        float cut = KthLargest(values, keep);
        int marked = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] > cut)
            {
                mask[i] = true;
                marked++;
            }
        }
        for (int i = 0; i < values.Length && marked < keep; i++)
        {
            if (values[i] == cut)
            {
                mask[i] = true;
                marked++;
            }
        }
    }

    /// <summary>
    /// Smallest axis-aligned box holding every set cell of <paramref name="mask"/> ([rows, cols]);
    /// (0, 0, 0, 0) for an empty mask.
    /// </summary>
    public static (int X, int Y, int Width, int Height) BoundingBox(ReadOnlySpan<bool> mask, int rows, int cols)
    {
        if (rows < 0 || cols < 0 || (long)rows * cols != mask.Length)
        {
            throw new ArgumentException($"mask has {mask.Length} entries; expected [rows,cols] = [{rows},{cols}].", nameof(mask));
        }
        int top = int.MaxValue, bottom = -1, left = int.MaxValue, right = -1;
        for (int row = 0; row < rows; row++)
        {
            var line = mask.Slice(row * cols, cols);
            int first = line.IndexOf(true);
            if (first < 0)
            {
                continue;
            }
            top = Math.Min(top, row);
            bottom = row;
            left = Math.Min(left, first);
            right = Math.Max(right, line.LastIndexOf(true));
        }
        return bottom < 0 ? (0, 0, 0, 0) : (left, top, right - left + 1, bottom - top + 1);
    }

    /// <summary>The uint8 level the reference's np.uint8(255*m) gives (truncation), clamped, NaN → 0.</summary>
    internal static int Level(float normalized)
    {
        float scaled = 255f * normalized;
        return scaled >= 255f ? 255 : scaled > 0f ? (int)scaled : 0;
    }

    /// <summary>OpenCV's getThreshVal_Otsu_8u: the first level that maximises q1·q2·(μ1 − μ2)².</summary>
    private static int OtsuLevel(ReadOnlySpan<int> histogram, int total)
    {
        double scale = 1.0 / total, mu = 0;
        for (int level = 0; level < 256; level++)
        {
            mu += level * (double)histogram[level];
        }
        mu *= scale;
        double mu1 = 0, q1 = 0, maxSigma = 0;
        int best = 0;
        for (int level = 0; level < 256; level++)
        {
            double p = histogram[level] * scale;
            mu1 *= q1;
            q1 += p;
            double q2 = 1 - q1;
            if (Math.Min(q1, q2) < float.Epsilon || Math.Max(q1, q2) > 1 - float.Epsilon)
            {
                continue;
            }
            mu1 = (mu1 + level * p) / q1;
            double mu2 = (mu - q1 * mu1) / q2;
            double sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
            if (sigma > maxSigma)
            {
                maxSigma = sigma;
                best = level;
            }
        }
        return best;
    }

    private static float KthLargest(ReadOnlySpan<float> values, int k)
    {
        float[] rented = ArrayPool<float>.Shared.Rent(values.Length);
        try
        {
            var sorted = rented.AsSpan(0, values.Length);
            values.CopyTo(sorted);
            sorted.Sort();
            return sorted[values.Length - k];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>Horizontal pass of the bilinear resize: every source row resampled to dstCols.</summary>
    private static void ResampleRows(ReadOnlySpan<float> src, int srcRows, int srcCols, Span<float> horizontal, int dstCols)
    {
        float colScale = (float)srcCols / dstCols;
        for (int col = 0; col < dstCols; col++)
        {
            var (left, right, rightWeight) = SourceTaps(col, colScale, srcCols);
            float leftWeight = 1f - rightWeight;
            for (int row = 0; row < srcRows; row++)
            {
                var line = src.Slice(row * srcCols, srcCols);
                horizontal[row * dstCols + col] = leftWeight * line[left] + rightWeight * line[right];
            }
        }
    }

    /// <summary>PyTorch's area_pixel_compute_source_index (align_corners=False) and its two taps.</summary>
    private static (int Low, int High, float HighWeight) SourceTaps(int dstIndex, float scale, int srcSize)
    {
        float source = MathF.Max(scale * (dstIndex + 0.5f) - 0.5f, 0f);
        int low = Math.Min((int)source, srcSize - 1);
        int high = low < srcSize - 1 ? low + 1 : low;
        float highWeight = Math.Clamp(source - low, 0f, 1f);
        return (low, high, highWeight);
    }

    private static void RequireBytes(string name, int actual, long expected, string what)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{name} has {actual} entries; expected {expected} ({what}).", name);
        }
    }
}
