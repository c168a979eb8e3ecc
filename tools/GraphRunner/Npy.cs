using System.Text;
using System.Text.RegularExpressions;

namespace Dermxai.GraphRunner;

/// <summary>The .npy subset the runner needs: little-endian float32, float64 and int64, C order.</summary>
public static partial class Npy
{
    public sealed record Array(string Dtype, long[] Shape, byte[] Data);

    public static Array Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw new InvalidDataException($"{path} is not a .npy file.");
        int major = bytes[6];
        int headerLength = major == 1 ? BitConverter.ToUInt16(bytes, 8) : (int)BitConverter.ToUInt32(bytes, 8);
        int start = major == 1 ? 10 : 12;
        var header = Encoding.Latin1.GetString(bytes, start, headerLength);
        var descr = DescrPattern().Match(header).Groups[1].Value;
        if (header.Contains("'fortran_order': True"))
            throw new InvalidDataException($"{path} is in Fortran order; save it C-contiguous.");
        if (descr is not ("<f4" or "<f8" or "<i8"))
            throw new InvalidDataException($"{path} has dtype {descr}; the runner reads <f4, <f8 and <i8.");
        var shape = ShapePattern().Match(header).Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(long.Parse).ToArray();
        return new Array(descr, shape, bytes[(start + headerLength)..]);
    }

    public static void Write(string path, string descr, long[] shape, ReadOnlySpan<byte> data)
    {
        var dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(data);
    }

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
