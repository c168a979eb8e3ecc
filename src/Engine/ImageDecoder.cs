using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Dermxai.Engine;

/// <summary>A photo as viewed: RGB24 pixels after EXIF orientation.</summary>
internal sealed record DecodedImage(byte[] Rgb, int Width, int Height);

/// <summary>
/// JPEG and PNG only, checked before any pixel is decoded: size in bytes, then the header's width and
/// height (Identify), then the full decode with every metadata block ignored (no ICC profile parsing);
/// EXIF orientation is read separately and applied.
/// </summary>
internal sealed class ImageDecoder(ImageLimits limits)
{
    /// <summary>The request field that carries encoded bytes.</summary>
    internal const string Field = "image.encoded";

    private static readonly Configuration JpegAndPngOnly = CreateConfiguration();

    internal DecodedImage Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) throw EngineException.Invalid(ErrorReasons.ImageEmpty, Field, "The image is empty; send JPEG or PNG bytes.");
        if (bytes.Length > limits.MaxBytes)
            throw EngineException.TooLarge(ErrorReasons.ImageTooLarge, Field,
                $"The image is {bytes.Length} bytes, more than the limit of {limits.MaxBytes} bytes.");

        bool isJpeg = bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
        bool isPng = bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        if (!isJpeg && !isPng)
        {
            string? other = UnsupportedFormatName(bytes);
            throw EngineException.Invalid(ErrorReasons.UnsupportedImageFormat, Field, other is null
                ? "The data is not a JPEG or PNG image; send JPEG or PNG."
                : $"{other} images are not supported; send JPEG or PNG.");
        }
        string format = isJpeg ? "JPEG" : "PNG";

        CheckDimensions(bytes, format);
        Image<Rgb24> image;
        try { image = Image.Load<Rgb24>(JpegAndPngOnly, bytes); }
        catch (Exception e) when (IsDecoderFailure(e))
        {
            throw EngineException.Invalid(ErrorReasons.CorruptImage, Field, $"The {format} image is corrupt or truncated and could not be decoded.");
        }
        using (image)
        {
            var rgb = new byte[image.Width * image.Height * 3];
            CopyPixels(image, rgb);
            var (oriented, w, h) = ExifOrientation.Apply(rgb, image.Width, image.Height, ExifOrientation.Read(bytes, isJpeg));
            return new DecodedImage(oriented, w, h);
        }
    }

    private void CheckDimensions(ReadOnlySpan<byte> bytes, string format)
    {
        IImageInfo? info;
        try
        {
            using var stream = new MemoryStream(bytes.ToArray(), writable: false);
            info = Image.Identify(JpegAndPngOnly, stream);
        }
        catch (Exception e) when (IsDecoderFailure(e))
        {
            info = null;
        }
        if (info is null || info.Width <= 0 || info.Height <= 0)
            throw EngineException.Invalid(ErrorReasons.CorruptImage, Field, $"The {format} image is corrupt: its header could not be read.");
        if (info.Width > limits.MaxSide || info.Height > limits.MaxSide)
            throw EngineException.TooLarge(ErrorReasons.ImageSideTooLarge, Field,
                $"The image is {info.Width}x{info.Height} pixels; each side must be at most {limits.MaxSide}.");
        if ((long)info.Width * info.Height > limits.MaxPixels)
            throw EngineException.TooLarge(ErrorReasons.ImageTooManyPixels, Field,
                $"The image has {(long)info.Width * info.Height} pixels, more than the limit of {limits.MaxPixels}.");
    }

    /// <summary>
    /// Whatever ImageSharp throws on hostile bytes means "corrupt": the fuzz corpus (tests/Hardening.Tests)
    /// found NullReferenceExceptions in its JPEG Identify and decode paths besides the documented types.
    /// </summary>
    private static bool IsDecoderFailure(Exception e) => e is not (OutOfMemoryException or OperationCanceledException);

    private static void CopyPixels(Image<Rgb24> image, byte[] rgb)
    {
        image.ProcessPixelRows(rows =>
        {
            int stride = rows.Width * 3;
            for (int y = 0; y < rows.Height; y++)
                MemoryMarshal.AsBytes(rows.GetRowSpan(y)).CopyTo(rgb.AsSpan(y * stride, stride));
        });
    }

    /// <summary>Names a well-known format by its magic bytes, so the refusal can say what was sent.</summary>
    private static string? UnsupportedFormatName(ReadOnlySpan<byte> b)
    {
        if (b.StartsWith("II*\0"u8) || b.StartsWith("MM\0*"u8)) return "TIFF";
        if (b.StartsWith("GIF8"u8)) return "GIF";
        if (b.StartsWith("BM"u8)) return "BMP";
        if (b.Length >= 12 && b.StartsWith("RIFF"u8) && b.Slice(8, 4).SequenceEqual("WEBP"u8)) return "WebP";
        if (b.Length >= 12 && b.Slice(4, 4).SequenceEqual("ftyp"u8))
        {
            var brand = b.Slice(8, 4);
            return brand.SequenceEqual("avif"u8) ? "AVIF" : "HEIF/HEIC";
        }
        if (b.StartsWith((ReadOnlySpan<byte>)[0, 0, 0, 0x0C, (byte)'j', (byte)'P'])) return "JPEG 2000";
        if (b.StartsWith("%PDF"u8)) return "PDF";
        if (b.StartsWith("8BPS"u8)) return "Photoshop (PSD)";
        return null;
    }

    private static Configuration CreateConfiguration()
    {
        var config = new Configuration(new JpegConfigurationModule(), new PngConfigurationModule());
        config.ImageFormatsManager.SetDecoder(JpegFormat.Instance, new JpegDecoder { IgnoreMetadata = true });
        config.ImageFormatsManager.SetDecoder(PngFormat.Instance, new PngDecoder { IgnoreMetadata = true });
        return config;
    }
}
