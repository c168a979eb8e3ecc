using Dermxai.Tests;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace Dermxai.Hardening.Tests.Fuzz;

/// <summary>One well-formed encoded image and what a correct server must make of it.</summary>
internal sealed record SeedImage(string Name, byte[] Bytes, int ViewedWidth, int ViewedHeight);

/// <summary>
/// Well-formed photos in every JPEG/PNG flavour the issue lists, encoded at test time with
/// ImageSharp (plus the committed progressive/CMYK fixtures ImageSharp 2.1 cannot write), and
/// well-formed files of the formats the server must refuse by name.
/// </summary>
internal static class SeedImages
{
    internal const int Width = 48, Height = 32;

    internal static IReadOnlyList<SeedImage> Accepted { get; } = BuildAccepted();

    /// <summary>Format name as the refusal must state it → a real file of that format.</summary>
    internal static IReadOnlyList<(string Format, byte[] Bytes)> RefusedByName { get; } = BuildRefused();

    internal static Image<Rgba32> Photo(int width = Width, int height = Height)
    {
        var image = new Image<Rgba32>(width, height);
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            bool lesion = (x - width / 2) * (x - width / 2) + (y - height / 2) * (y - height / 2) < width * height / 10;
            image[x, y] = lesion
                ? new Rgba32(120, 50, 40, 200)
                : new Rgba32((byte)(180 + x * 60 / width), (byte)(130 + y * 60 / height), (byte)(110 + (x ^ y) % 30), 255);
        }
        return image;
    }

    internal static byte[] Encode(Image image, IImageEncoder encoder)
    {
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }

    private static List<SeedImage> BuildAccepted()
    {
        var seeds = new List<SeedImage>();
        using var photo = Photo();
        void Add(string name, IImageEncoder encoder, Image? source = null) =>
            seeds.Add(new SeedImage(name, Encode(source ?? photo, encoder), Width, Height));

        Add("jpeg-420", new JpegEncoder { Quality = 90, ColorType = JpegColorType.YCbCrRatio420 });
        Add("jpeg-444", new JpegEncoder { Quality = 75, ColorType = JpegColorType.YCbCrRatio444 });
        Add("jpeg-grey", new JpegEncoder { Quality = 80, ColorType = JpegColorType.Luminance });
        Add("jpeg-rgb", new JpegEncoder { Quality = 80, ColorType = JpegColorType.Rgb });
        Add("png-rgb8", new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8 });
        Add("png-rgba8", new PngEncoder { ColorType = PngColorType.RgbWithAlpha, BitDepth = PngBitDepth.Bit8 });
        Add("png-rgb16", new PngEncoder { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit16 });
        Add("png-rgba16", new PngEncoder { ColorType = PngColorType.RgbWithAlpha, BitDepth = PngBitDepth.Bit16 });
        Add("png-grey8", new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit8 });
        Add("png-grey16", new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit16 });
        Add("png-grey1", new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit1 });
        Add("png-grey-alpha", new PngEncoder { ColorType = PngColorType.GrayscaleWithAlpha, BitDepth = PngBitDepth.Bit8 });
        Add("png-palette", new PngEncoder { ColorType = PngColorType.Palette, BitDepth = PngBitDepth.Bit8 });
        Add("png-adam7", new PngEncoder { ColorType = PngColorType.Rgb, InterlaceMethod = PngInterlaceMode.Adam7 });
        for (ushort orientation = 1; orientation <= 8; orientation++)
        {
            using var oriented = photo.Clone();
            oriented.Metadata.ExifProfile = new ExifProfile();
            oriented.Metadata.ExifProfile.SetValue(ExifTag.Orientation, orientation);
            bool swapped = orientation >= 5;
            int w = swapped ? Height : Width, h = swapped ? Width : Height;
            seeds.Add(new SeedImage($"jpeg-exif{orientation}", Encode(oriented, new JpegEncoder { Quality = 85 }), w, h));
            seeds.Add(new SeedImage($"png-exif{orientation}", Encode(oriented, new PngEncoder()), w, h));
        }
        foreach (var fixture in new[] { "progressive", "progressive_optimized_444", "cmyk", "cmyk_progressive" })
            seeds.Add(new SeedImage($"jpeg-{fixture}", File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture + ".jpg")), 96, 64));
        using (var tiny = Photo(1, 1)) seeds.Add(new SeedImage("png-1x1", Encode(tiny, new PngEncoder()), 1, 1));
        using (var column = Photo(1, 12_000)) seeds.Add(new SeedImage("png-1x12000", Encode(column, new PngEncoder { ColorType = PngColorType.Rgb }), 1, 12_000));
        using (var row = Photo(12_000, 1)) seeds.Add(new SeedImage("jpeg-12000x1", Encode(row, new JpegEncoder()), 12_000, 1));
        return seeds;
    }

    private static List<(string, byte[])> BuildRefused()
    {
        using var photo = Photo();
        return
        [
            ("GIF", Encode(photo, new GifEncoder())),
            ("BMP", Encode(photo, new BmpEncoder())),
            ("WebP", Encode(photo, new WebpEncoder { FileFormat = WebpFileFormatType.Lossy })),
            ("WebP", Encode(photo, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless })),
            // Hand-made headers: ImageSharp's TIFF encoder is avoided on purpose (advisories), the others it cannot write.
            ("TIFF", [.. "II*\0"u8, 8, 0, 0, 0, 1, 0, 0, 1, 3, 0, 1, 0, 0, 0, 48, 0, 0, 0, 0, 0, 0, 0]),
            ("TIFF", [.. "MM\0*"u8, 0, 0, 0, 8, 0, 1, 1, 0, 0, 3, 0, 0, 0, 1, 0, 48, 0, 0, 0, 0, 0, 0]),
            ("AVIF", [0, 0, 0, 0x1C, .. "ftypavif"u8, 0, 0, 0, 0, .. "avifmif1miaf"u8]),
            ("HEIF/HEIC", [0, 0, 0, 0x18, .. "ftypheic"u8, 0, 0, 0, 0, .. "mif1heic"u8]),
            ("PDF", [.. "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"u8]),
            ("Photoshop (PSD)", [.. "8BPS"u8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3]),
            ("JPEG 2000", [0, 0, 0, 0x0C, (byte)'j', (byte)'P', (byte)' ', (byte)' ', 0x0D, 0x0A, 0x87, 0x0A]),
        ];
    }
}
