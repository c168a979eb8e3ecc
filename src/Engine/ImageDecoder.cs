using System.Buffers;
using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Dermxai.Engine;

/// <summary>
/// A photo as viewed: RGB24 pixels after EXIF orientation. Decoded photos live in ImageSharp's bounded
/// allocator (unmanaged, handed back to the system on <see cref="Dispose"/>), not on the managed heap.
/// </summary>
internal sealed class DecodedImage : IDisposable
{
    private readonly IMemoryOwner<byte>? _owner;
    private readonly Memory<byte> _rgb;

    internal DecodedImage(byte[] rgb, int width, int height) : this(null, rgb, width, height) { }

    private DecodedImage(IMemoryOwner<byte>? owner, Memory<byte> rgb, int width, int height)
    {
        _owner = owner;
        _rgb = rgb;
        Width = width;
        Height = height;
    }

    internal ReadOnlySpan<byte> Rgb => _rgb.Span;
    internal int Width { get; }
    internal int Height { get; }

    internal static DecodedImage Owning(IMemoryOwner<byte> owner, int width, int height) =>
        new(owner, owner.Memory[..(width * height * 3)], width, height);

    public void Dispose() => _owner?.Dispose();
}

/// <summary>What the header says, checked against the limits: enough to reserve memory before decoding.</summary>
internal readonly record struct ImageHeader(bool IsJpeg, int Width, int Height)
{
    public string Format => IsJpeg ? "JPEG" : "PNG";
    public long Pixels => (long)Width * Height;
}

/// <summary>
/// JPEG and PNG only, checked before any pixel is decoded: size in bytes, then the header's width and
/// height (Identify), then the full decode with every metadata block ignored (no ICC profile parsing);
/// EXIF orientation is read separately and applied.
/// </summary>
internal sealed class ImageDecoder(ImageLimits limits)
{
    /// <summary>The request field that carries encoded bytes.</summary>
    internal const string Field = "image.encoded";

    private static Configuration JpegAndPngOnly => ImagingMemory.Configuration;

    internal DecodedImage Decode(ReadOnlyMemory<byte> bytes, CancellationToken cancel = default) =>
        DecodePixels(bytes, Inspect(bytes), cancel);

    /// <summary>Size, format and header dimensions, checked before any pixel is decoded.</summary>
    internal ImageHeader Inspect(ReadOnlyMemory<byte> encoded)
    {
        var bytes = encoded.Span;
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
        var (width, height) = ReadDimensions(encoded, isJpeg ? "JPEG" : "PNG");
        return new ImageHeader(isJpeg, width, height);
    }

    /// <summary>
    /// The pixels of an inspected image. The token is checked between the stages (decode, copy,
    /// orientation): a caller that gave up stops the work at the next stage.
    /// </summary>
    internal DecodedImage DecodePixels(ReadOnlyMemory<byte> bytes, ImageHeader header, CancellationToken cancel)
    {
        cancel.ThrowIfCancellationRequested();
        Image<Rgb24> image;
        try
        {
            using var stream = ReadOnlyStream(bytes);
            image = Image.Load<Rgb24>(JpegAndPngOnly, stream);
        }
        catch (Exception e) when (IsDecoderFailure(e))
        {
            throw EngineException.Invalid(ErrorReasons.CorruptImage, Field, $"The {header.Format} image is corrupt or truncated and could not be decoded.");
        }
        int orientation = ExifOrientation.Read(bytes.Span, header.IsJpeg);
        var viewed = ImagingMemory.Allocator.Allocate<byte>(checked(image.Width * image.Height * 3));
        try
        {
            using (image)
            {
                cancel.ThrowIfCancellationRequested();
                if (orientation <= 1) CopyPixels(image, viewed.Memory.Span);
                else
                {
                    using var stored = ImagingMemory.Allocator.Allocate<byte>(viewed.Memory.Length);
                    CopyPixels(image, stored.Memory.Span);
                    cancel.ThrowIfCancellationRequested();
                    var (w, h) = ExifOrientation.Apply(stored.Memory.Span, image.Width, image.Height, orientation, viewed.Memory.Span);
                    return DecodedImage.Owning(viewed, w, h);
                }
                return DecodedImage.Owning(viewed, image.Width, image.Height);
            }
        }
        catch
        {
            viewed.Dispose();
            throw;
        }
    }

    /// <summary>A stream over the caller's bytes without copying them (protobuf byte fields are array-backed).</summary>
    private static MemoryStream ReadOnlyStream(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);

    private (int Width, int Height) ReadDimensions(ReadOnlyMemory<byte> bytes, string format)
    {
        IImageInfo? info;
        try
        {
            using var stream = ReadOnlyStream(bytes);
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
        return (info.Width, info.Height);
    }

    /// <summary>
    /// Whatever ImageSharp throws on hostile bytes means "corrupt": the fuzz corpus (tests/Hardening.Tests)
    /// found NullReferenceExceptions in its JPEG Identify and decode paths besides the documented types.
    /// </summary>
    private static bool IsDecoderFailure(Exception e) => e is not (OutOfMemoryException or OperationCanceledException);

    private static void CopyPixels(Image<Rgb24> image, Span<byte> rgb) => image.CopyPixelDataTo(rgb);

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
}
