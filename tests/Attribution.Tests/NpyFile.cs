using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace Dermxai.Attribution.Tests;

/// <summary>Reads a NumPy .npy file of little-endian float64 in C order (format versions 1–3).</summary>
internal static partial class NpyFile
{
    public static (double[] Values, int[] Shape) ReadFloat64(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
        {
            throw new InvalidDataException($"{path} is not a .npy file.");
        }
        bool longHeader = bytes[6] >= 2;
        int headerLength = longHeader ? (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)) : BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        int dataStart = (longHeader ? 12 : 10) + headerLength;
        string header = Encoding.Latin1.GetString(bytes, dataStart - headerLength, headerLength);
        if (!header.Contains("'descr': '<f8'") || !header.Contains("'fortran_order': False"))
        {
            throw new InvalidDataException($"{path} must hold little-endian float64 in C order; its header is {header.Trim()}.");
        }
        var shape = ShapePattern().Match(header).Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        var values = new double[shape.Aggregate(1, (product, d) => product * d)];
        if (bytes.Length - dataStart != values.Length * sizeof(double))
        {
            throw new InvalidDataException($"{path} holds {bytes.Length - dataStart} data bytes; its shape ({string.Join(",", shape)}) needs {values.Length * sizeof(double)}.");
        }
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(dataStart + i * sizeof(double)));
        }
        return (values, shape);
    }

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
