using System.Buffers.Binary;
using System.IO.Compression;

namespace Dermxai.Hardening.Tests.Fuzz;

/// <summary>Byte-level damage and hand-made headers: the hostile half of the corpus.</summary>
internal static class Mutations
{
    internal static byte[] Truncate(byte[] bytes, Random random) => bytes[..random.Next(bytes.Length)];

    internal static byte[] FlipBits(byte[] bytes, Random random)
    {
        var copy = (byte[])bytes.Clone();
        int flips = 1 + random.Next(16);
        for (int i = 0; i < flips; i++) copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        return copy;
    }

    /// <summary>Overwrites a random run with random bytes (a corrupted block rather than a stray bit).</summary>
    internal static byte[] Smash(byte[] bytes, Random random)
    {
        var copy = (byte[])bytes.Clone();
        int start = random.Next(copy.Length), length = Math.Min(copy.Length - start, 1 + random.Next(64));
        random.NextBytes(copy.AsSpan(start, length));
        return copy;
    }

    /// <summary>Sets one JPEG segment's length field (or one PNG chunk's) to a hostile value.</summary>
    internal static byte[] CorruptLengthField(byte[] bytes, Random random)
    {
        var copy = (byte[])bytes.Clone();
        var offsets = IsPng(copy) ? PngChunkOffsets(copy) : JpegSegmentOffsets(copy);
        if (offsets.Count == 0) return FlipBits(copy, random);
        int at = offsets[random.Next(offsets.Count)];
        uint[] hostile = [0, 1, 2, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, (uint)random.Next()];
        uint value = hostile[random.Next(hostile.Length)];
        if (IsPng(copy)) BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(at), value);
        else BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(at + 2), (ushort)value);
        return copy;
    }

    /// <summary>Width and height as the header claims them: JPEG SOFn or PNG IHDR rewritten (PNG CRC kept valid).</summary>
    internal static byte[] WithDeclaredSize(byte[] bytes, int width, int height)
    {
        var copy = (byte[])bytes.Clone();
        if (IsPng(copy))
        {
            BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(16), width);
            BinaryPrimitives.WriteInt32BigEndian(copy.AsSpan(20), height);
            BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(29), PngCrc.Of(copy.AsSpan(12, 17)));
            return copy;
        }
        foreach (int at in JpegSegmentOffsets(copy))
        {
            byte marker = copy[at + 1];
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(at + 5), (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(at + 7), (ushort)width);
            }
        }
        return copy;
    }

    /// <summary>A PNG whose IDAT inflates to <paramref name="height"/> rows of zeros (a real decompression bomb when large).</summary>
    internal static byte[] ZeroPng(int width, int height, int storedRows, byte colorType = 0)
    {
        int channels = colorType switch { 2 => 3, 6 => 4, 4 => 2, _ => 1 };
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            var row = new byte[1 + width * channels];
            for (int y = 0; y < storedRows; y++) zlib.Write(row);
        }
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = colorType;
        WriteChunk(png, "IHDR", ihdr);
        WriteChunk(png, "IDAT", compressed.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>A JPEG with an APP1 EXIF block whose TIFF structure is random (offsets, counts, byte order).</summary>
    internal static byte[] WithHostileExif(byte[] jpeg, Random random)
    {
        var tiff = new byte[8 + random.Next(64)];
        random.NextBytes(tiff);
        if (random.Next(2) == 0) { tiff[0] = tiff[1] = (byte)'I'; } else { tiff[0] = tiff[1] = (byte)'M'; }
        if (random.Next(2) == 0) BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(4), (uint)random.Next(-16, 64));
        var body = new byte[6 + tiff.Length];
        "Exif\0\0"u8.CopyTo(body);
        tiff.CopyTo(body, 6);
        var segment = new byte[4 + body.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(2 + body.Length));
        body.CopyTo(segment, 4);
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, header[4..]);
        png.Write(header);
        png.Write(data);
        Span<byte> sum = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(sum, PngCrc.Of([.. header[4..], .. data]));
        png.Write(sum);
    }

    private static bool IsPng(byte[] bytes) => bytes.Length > 8 && bytes[0] == 0x89 && bytes[1] == (byte)'P';

    /// <summary>Offsets of each chunk's length field.</summary>
    private static List<int> PngChunkOffsets(byte[] png)
    {
        var offsets = new List<int>();
        for (int at = 8; at + 8 <= png.Length;)
        {
            offsets.Add(at);
            long next = at + 12L + BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
            if (next > png.Length) break;
            at = (int)next;
        }
        return offsets;
    }

    /// <summary>Offsets of each marker segment (0xFF, marker, 16-bit length) before the entropy-coded data.</summary>
    private static List<int> JpegSegmentOffsets(byte[] jpeg)
    {
        var offsets = new List<int>();
        for (int at = 2; at + 4 <= jpeg.Length && jpeg[at] == 0xFF;)
        {
            byte marker = jpeg[at + 1];
            offsets.Add(at);
            if (marker == 0xDA) break;
            at += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(at + 2));
        }
        return offsets;
    }
}

/// <summary>CRC-32 (ISO-HDLC, the PNG chunk checksum), bitwise: the corpus needs a few hundred of them.</summary>
internal static class PngCrc
{
    internal static uint Of(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
