using Dermxai.Attribution;
using System.Runtime.InteropServices;
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

        // The crop's heat colours are the only buffer besides the PNG being drawn, and both live in
        // ImageSharp's bounded allocator: a huge photo's overlays leave no garbage on the managed heap.
        using var heatOwner = ImagingMemory.Allocator.Allocate<byte>(cw * ch * 3);
        var heat = heatOwner.Memory.Span;
        using (var valuesOwner = ImagingMemory.Allocator.Allocate<float>(cw * ch))
        {
            var values = valuesOwner.Memory.Span;
            MapRendering.UpsampleBilinear(grid, gridSide, gridSide, values, ch, cw);
            MapRendering.NormalizeMinMax(values);
            MapRendering.ApplyColormap(values, colormap, heat);
        }

        byte[]? heatPng = null, overlayPng = null;
        if (heatmap)
        {
            Span<byte> zero = stackalloc byte[3];
            MapRendering.ApplyColormap([0f], colormap, zero);
            var zeroPixel = new Rgb24(zero[0], zero[1], zero[2]);
            heatPng = Draw(photo.Width, photo.Height, heatOwner.Memory, (y, row, heatRow) =>
            {
                row.Fill(zeroPixel);
                if (!heatRow.IsEmpty) heatRow.CopyTo(MemoryMarshal.AsBytes(row).Slice(x0 * 3, cw * 3));
            });
        }
        if (overlay)
        {
            int stride = photo.Width * 3;
            overlayPng = Draw(photo.Width, photo.Height, heatOwner.Memory, (y, row, heatRow) =>
            {
                var source = photo.Rgb.Slice(y * stride, stride);
                var target = MemoryMarshal.AsBytes(row);
                for (int i = 0; i < target.Length; i++) target[i] = (byte)(source[i] >> 1);
                if (!heatRow.IsEmpty)
                    MapRendering.BlendOverlay(source.Slice(x0 * 3, cw * 3), heatRow, alpha, target.Slice(x0 * 3, cw * 3));
            });
        }
        return (heatPng, overlayPng);

        // Rows of the crop get their row of heat colours; rows outside it an empty span.
        byte[] Draw(int width, int height, Memory<byte> heatRows, RowPainter paint)
        {
            using var image = new Image<Rgb24>(ImagingMemory.Configuration, width, height);
            image.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < height; y++)
                {
                    bool inCrop = y >= y0 && y < y0 + ch;
                    paint(y, rows.GetRowSpan(y), inCrop ? heatRows.Span.Slice((y - y0) * cw * 3, cw * 3) : []);
                }
            });
            using var stream = new MemoryStream();
            image.SaveAsPng(stream, Encoder);
            return stream.ToArray();
        }
    }

    private delegate void RowPainter(int y, Span<Rgb24> row, ReadOnlySpan<byte> heatRow);

    /// <summary>The crop rounded to whole pixels, clamped into the photo.</summary>
    private static (int X, int Y, int W, int H) PixelRegion(CropRegion crop, int width, int height)
    {
        int x0 = Math.Clamp((int)Math.Round(crop.X), 0, width - 1);
        int y0 = Math.Clamp((int)Math.Round(crop.Y), 0, height - 1);
        int x1 = Math.Clamp((int)Math.Round(crop.X + crop.Width), x0 + 1, width);
        int y1 = Math.Clamp((int)Math.Round(crop.Y + crop.Height), y0 + 1, height);
        return (x0, y0, x1 - x0, y1 - y0);
    }
}
