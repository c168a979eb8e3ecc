using System.Buffers.Binary;

namespace Dermxai.Engine;

/// <summary>
/// Reads the EXIF orientation tag (0x0112) straight from a JPEG APP1 segment or a PNG eXIf chunk,
/// so the decoders can run with all metadata (ICC profiles included) ignored; and applies it.
/// </summary>
internal static class ExifOrientation
{
    private const ushort OrientationTag = 0x0112;

    /// <summary>The orientation 1–8, or 1 when absent or unreadable.</summary>
    internal static int Read(ReadOnlySpan<byte> file, bool isJpeg)
    {
        var tiff = isJpeg ? FindJpegExif(file) : FindPngExif(file);
        int value = tiff.IsEmpty ? 1 : ReadTiffOrientation(tiff);
        return value is >= 1 and <= 8 ? value : 1;
    }

    private static ReadOnlySpan<byte> FindJpegExif(ReadOnlySpan<byte> f)
    {
        int pos = 2;
        while (pos + 4 <= f.Length && f[pos] == 0xFF)
        {
            byte marker = f[pos + 1];
            if (marker == 0xFF) { pos++; continue; }          // fill byte
            if (marker is 0xD8 or (>= 0xD0 and <= 0xD7)) { pos += 2; continue; }
            if (marker is 0xDA or 0xD9) break;                   // image data starts: no EXIF after it
            int length = BinaryPrimitives.ReadUInt16BigEndian(f.Slice(pos + 2));
            if (length < 2 || pos + 2 + length > f.Length) break;
            var body = f.Slice(pos + 4, length - 2);
            if (marker == 0xE1 && body.Length > 6 && body.StartsWith("Exif\0\0"u8)) return body[6..];
            pos += 2 + length;
        }
        return default;
    }

    private static ReadOnlySpan<byte> FindPngExif(ReadOnlySpan<byte> f)
    {
        int pos = 8;
        while (pos + 12 <= f.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(f.Slice(pos));
            if (length > (uint)(f.Length - pos - 12)) break;
            var type = f.Slice(pos + 4, 4);
            if (type.SequenceEqual("eXIf"u8)) return f.Slice(pos + 8, (int)length);
            if (type.SequenceEqual("IEND"u8)) break;
            pos += 12 + (int)length;
        }
        return default;
    }

    private static int ReadTiffOrientation(ReadOnlySpan<byte> t)
    {
        if (t.Length < 8) return 1;
        bool little = t[0] == (byte)'I' && t[1] == (byte)'I';
        if (!little && !(t[0] == (byte)'M' && t[1] == (byte)'M')) return 1;
        uint ifd = U32(t, 4, little);
        if (ifd > (uint)t.Length - 2) return 1;
        int count = U16(t, (int)ifd, little);
        for (int i = 0; i < count; i++)
        {
            int entry = (int)ifd + 2 + 12 * i;
            if (entry + 12 > t.Length) break;
            if (U16(t, entry, little) == OrientationTag) return U16(t, entry + 8, little);
        }
        return 1;
    }

    private static ushort U16(ReadOnlySpan<byte> t, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(t[at..]) : BinaryPrimitives.ReadUInt16BigEndian(t[at..]);

    private static uint U32(ReadOnlySpan<byte> t, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(t[at..]) : BinaryPrimitives.ReadUInt32BigEndian(t[at..]);

    /// <summary>Turns RGB24 pixels as stored into the image as a viewer shows it.</summary>
    internal static (byte[] Rgb, int Width, int Height) Apply(byte[] rgb, int width, int height, int orientation)
    {
        if (orientation <= 1) return (rgb, width, height);
        var dst = new byte[rgb.Length];
        var (outW, outH) = Apply(rgb, width, height, orientation, dst);
        return (dst, outW, outH);
    }

    /// <summary>The same into <paramref name="dst"/> (as long as <paramref name="rgb"/>); returns the viewed size.</summary>
    internal static (int Width, int Height) Apply(ReadOnlySpan<byte> rgb, int width, int height, int orientation, Span<byte> dst)
    {
        if (orientation <= 1)
        {
            rgb.CopyTo(dst);
            return (width, height);
        }
        bool swap = orientation >= 5;
        int outW = swap ? height : width, outH = swap ? width : height;
        for (int y = 0; y < outH; y++)
        for (int x = 0; x < outW; x++)
        {
            var (sx, sy) = SourceOf(orientation, x, y, width, height);
            int s = (sy * width + sx) * 3, d = (y * outW + x) * 3;
            dst[d] = rgb[s]; dst[d + 1] = rgb[s + 1]; dst[d + 2] = rgb[s + 2];
        }
        return (outW, outH);
    }

    /// <summary>For display pixel (x, y), the stored pixel it comes from (EXIF 2.3 orientation semantics).</summary>
    private static (int X, int Y) SourceOf(int orientation, int x, int y, int w, int h) => orientation switch
    {
        2 => (w - 1 - x, y),                 // mirrored horizontally
        3 => (w - 1 - x, h - 1 - y),         // rotated 180
        4 => (x, h - 1 - y),                 // mirrored vertically
        5 => (y, x),                         // transposed
        6 => (y, h - 1 - x),                 // rotate 90 clockwise to view
        7 => (w - 1 - y, h - 1 - x),         // transverse
        8 => (w - 1 - y, x),                 // rotate 270 clockwise to view
        _ => (x, y),
    };
}
