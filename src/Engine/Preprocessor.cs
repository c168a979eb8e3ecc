namespace Dermxai.Engine;

/// <summary>The part of the viewed photo that the model saw (the center crop, in photo pixels).</summary>
public readonly record struct CropRegion(double X, double Y, double Width, double Height);

/// <summary>One image ready for the model: normalised CHW pixels and where they came from.</summary>
internal sealed class PreparedImage
{
    /// <summary>[3, S, S], float[] for float32 models, double[] for float64 models.</summary>
    public required Array Pixels { get; init; }
    /// <summary>The photo as viewed (for overlays); the de-normalised tensor for tensor inputs.</summary>
    public required DecodedImage Photo { get; init; }
    public required CropRegion Crop { get; init; }
}

/// <summary>
/// timm's eval transform: resize the shorter side to floor(S / crop_pct) (longer side
/// int(scale · long / short), as torchvision), center-crop S×S (top = round((h − S) / 2), half to
/// even as Python), scale to [0, 1], normalise with the model's mean/std.
/// </summary>
internal static class Preprocessor
{
    /// <summary>The S×S center crop of the resized photo as RGB24 bytes, plus the crop in photo pixels.</summary>
    internal static (byte[] Rgb, CropRegion Crop) ResizeAndCrop(DecodedImage photo, int size, double cropPct, string interpolation)
    {
        int scaleSize = (int)Math.Floor(size / cropPct);
        int w = photo.Width, h = photo.Height;
        int outW, outH;
        if (w <= h) { outW = scaleSize; outH = (int)((long)scaleSize * h / w); }
        else { outH = scaleSize; outW = (int)((long)scaleSize * w / h); }
        if (outW < size || outH < size)
            throw new InvalidOperationException("crop_pct > 1 is not supported (the crop would need padding).");

        int top = (int)Math.Round((outH - size) / 2.0, MidpointRounding.ToEven);
        int left = (int)Math.Round((outW - size) / 2.0, MidpointRounding.ToEven);
        var filter = interpolation == "bilinear" ? PilResampler.Filter.Bilinear : PilResampler.Filter.Bicubic;
        var crop = PilResampler.ResizeWindow(photo.Rgb, w, h, outW, outH, left, top, size, size, filter);

        double sx = (double)w / outW, sy = (double)h / outH;
        return (crop, new CropRegion(left * sx, top * sy, size * sx, size * sy));
    }

    internal static PreparedImage Prepare(DecodedImage photo, ModelDescription model)
    {
        var (rgb, crop) = ResizeAndCrop(photo, model.ImageSize, model.CropPct, model.Interpolation);
        Array pixels = model.IsFloat64 ? NormalizeDouble(rgb, model) : NormalizeFloat(rgb, model);
        return new PreparedImage { Pixels = pixels, Photo = photo, Crop = crop };
    }

    /// <summary>As torchvision in float32: ToTensor (x / 255) then Normalize ((x − mean) / std).</summary>
    private static float[] NormalizeFloat(byte[] rgb, ModelDescription model)
    {
        int plane = rgb.Length / 3;
        var result = new float[rgb.Length];
        for (int c = 0; c < 3; c++)
        {
            float mean = (float)model.Mean[c], std = (float)model.Std[c];
            var dst = result.AsSpan(c * plane, plane);
            for (int i = 0; i < plane; i++) dst[i] = (rgb[3 * i + c] / 255f - mean) / std;
        }
        return result;
    }

    /// <summary>The same in float64 with exact constants (float32 rounding here alone moves LRP maps by 6e-4).</summary>
    private static double[] NormalizeDouble(byte[] rgb, ModelDescription model)
    {
        int plane = rgb.Length / 3;
        var result = new double[rgb.Length];
        for (int c = 0; c < 3; c++)
        {
            double mean = model.Mean[c], std = model.Std[c];
            var dst = result.AsSpan(c * plane, plane);
            for (int i = 0; i < plane; i++) dst[i] = (rgb[3 * i + c] / 255.0 - mean) / std;
        }
        return result;
    }

    /// <summary>A caller's tensor [3, S, S]: checked, cast to the model's type, and de-normalised for display.</summary>
    internal static PreparedImage FromTensor(float[] values, long[] shape, ModelDescription model)
    {
        int s = model.ImageSize;
        if (shape.Length != 3 || shape[0] != 3 || shape[1] != s || shape[2] != s)
            throw EngineException.Invalid(ErrorReasons.TensorShapeMismatch, "image.tensor.shape",
                $"The tensor has shape {ClientText.Shape(shape)}, but this model needs [3, {s}, {s}].");
        if (values.Length != 3 * s * s)
            throw EngineException.Invalid(ErrorReasons.TensorShapeMismatch, "image.tensor.values",
                $"The tensor has {values.Length} values, but shape [3, {s}, {s}] needs {3 * s * s}.");
        foreach (float v in values)
            if (!float.IsFinite(v)) throw EngineException.Invalid(ErrorReasons.TensorNotFinite, "image.tensor.values", "The tensor contains NaN or infinite values.");
        CheckNormalisedRange(values, model);

        Array pixels = model.IsFloat64 ? Array.ConvertAll(values, v => (double)v) : (float[])values.Clone();
        var photo = new DecodedImage(Denormalize(values, model), s, s);
        return new PreparedImage { Pixels = pixels, Photo = photo, Crop = new CropRegion(0, 0, s, s) };
    }

    /// <summary>
    /// Values a normalised pixel cannot take (beyond [(0 − mean) / std, (1 − mean) / std] by more than
    /// that range's width, which leaves room for resampling overshoot) overflow the model into NaN maps
    /// (found by the fuzz corpus in tests/Hardening.Tests): refuse them as not normalised.
    /// </summary>
    private static void CheckNormalisedRange(float[] chw, ModelDescription model)
    {
        int plane = chw.Length / 3;
        for (int c = 0; c < 3; c++)
        {
            double low = -model.Mean[c] / model.Std[c], high = (1 - model.Mean[c]) / model.Std[c], margin = high - low;
            foreach (float v in chw.AsSpan(c * plane, plane))
            {
                if (v < low - margin || v > high + margin)
                    throw EngineException.Invalid(ErrorReasons.TensorNotNormalized, "image.tensor.values",
                        $"The tensor's channel {c} holds values outside the range of normalised pixels [{low:G4}, {high:G4}]; normalise with ModelInfo.mean and std.");
            }
        }
    }

    private static byte[] Denormalize(float[] chw, ModelDescription model)
    {
        int plane = chw.Length / 3;
        var rgb = new byte[chw.Length];
        for (int c = 0; c < 3; c++)
        for (int i = 0; i < plane; i++)
        {
            double v = (chw[c * plane + i] * model.Std[c] + model.Mean[c]) * 255.0;
            rgb[3 * i + c] = (byte)Math.Clamp(Math.Round(v), 0, 255);
        }
        return rgb;
    }
}
