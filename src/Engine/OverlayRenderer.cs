using Dermxai.Attribution;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Dermxai.Engine;

/// <summary>
/// Heat map and overlay PNGs at the photo's own size. The map covers only the center crop the model
/// saw: the grid is upsampled bilinearly to that region of the photo, min-max normalised and colour
/// mapped there. Outside the crop the heat-map PNG shows the colour of zero relevance and the overlay
/// shows the photo dimmed to half brightness, so nobody reads relevance into pixels the model never saw.
/// </summary>
internal static class OverlayRenderer
{
    private static readonly PngEncoder Encoder = new() { CompressionLevel = PngCompressionLevel.BestSpeed };

    internal static (byte[]? Heatmap, byte[]? Overlay) Render(
        ReadOnlySpan<float> grid, int gridSide, DecodedImage photo, CropRegion crop,
        Colormap colormap, float alpha, bool heatmap, bool overlay)
    {
        if (!heatmap && !overlay) return (null, null);
        var (x0, y0, cw, ch) = PixelRegion(crop, photo.Width, photo.Height);

        var values = new float[cw * ch];
        MapRendering.UpsampleBilinear(grid, gridSide, gridSide, values, ch, cw);
        MapRendering.NormalizeMinMax(values);
        var heat = new byte[cw * ch * 3];
        MapRendering.ApplyColormap(values, colormap, heat);

        byte[]? heatPng = null, overlayPng = null;
        if (heatmap)
        {
            Span<byte> zero = stackalloc byte[3];
            MapRendering.ApplyColormap([0f], colormap, zero);
            var canvas = new byte[photo.Rgb.Length];
            for (int i = 0; i < canvas.Length; i += 3) zero.CopyTo(canvas.AsSpan(i, 3));
            Paste(heat, cw, ch, canvas, photo.Width, x0, y0);
            heatPng = EncodePng(canvas, photo.Width, photo.Height);
        }
        if (overlay)
        {
            var canvas = new byte[photo.Rgb.Length];
            for (int i = 0; i < canvas.Length; i++) canvas[i] = (byte)(photo.Rgb[i] >> 1);
            var region = new byte[cw * ch * 3];
            CopyRegion(photo.Rgb, photo.Width, x0, y0, cw, ch, region);
            var blended = new byte[region.Length];
            MapRendering.BlendOverlay(region, heat, alpha, blended);
            Paste(blended, cw, ch, canvas, photo.Width, x0, y0);
            overlayPng = EncodePng(canvas, photo.Width, photo.Height);
        }
        return (heatPng, overlayPng);
    }

    /// <summary>The crop rounded to whole pixels, clamped into the photo.</summary>
    private static (int X, int Y, int W, int H) PixelRegion(CropRegion crop, int width, int height)
    {
        int x0 = Math.Clamp((int)Math.Round(crop.X), 0, width - 1);
        int y0 = Math.Clamp((int)Math.Round(crop.Y), 0, height - 1);
        int x1 = Math.Clamp((int)Math.Round(crop.X + crop.Width), x0 + 1, width);
        int y1 = Math.Clamp((int)Math.Round(crop.Y + crop.Height), y0 + 1, height);
        return (x0, y0, x1 - x0, y1 - y0);
    }

    private static void CopyRegion(byte[] src, int srcWidth, int x0, int y0, int w, int h, byte[] dst)
    {
        for (int y = 0; y < h; y++)
            src.AsSpan(((y0 + y) * srcWidth + x0) * 3, w * 3).CopyTo(dst.AsSpan(y * w * 3, w * 3));
    }

    private static void Paste(byte[] src, int w, int h, byte[] dst, int dstWidth, int x0, int y0)
    {
        for (int y = 0; y < h; y++)
            src.AsSpan(y * w * 3, w * 3).CopyTo(dst.AsSpan(((y0 + y) * dstWidth + x0) * 3, w * 3));
    }

    internal static byte[] EncodePng(byte[] rgb, int width, int height)
    {
        using var image = Image.LoadPixelData<Rgb24>(rgb, width, height);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream, Encoder);
        return stream.ToArray();
    }
}
