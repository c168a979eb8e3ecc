using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace Dermxai.TestSupport;

/// <summary>A numpy .npy array (format 1.0–3.0, C order, little-endian float32/float64/int64) read as double.</summary>
public sealed partial class NpyArray
{
    private NpyArray(int[] shape, double[] values, string dtype)
    {
        Shape = shape;
        Values = values;
        DType = dtype;
    }

    public int[] Shape { get; }

    public double[] Values { get; }

    /// <summary>numpy's descr, e.g. "&lt;f8".</summary>
    public string DType { get; }

    public float[] ToFloat32()
    {
        var result = new float[Values.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = (float)Values[i];
        }
        return result;
    }

    public static NpyArray Load(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>The arrays of a numpy .npz archive (compressed or not), by name without ".npy".</summary>
    public static IReadOnlyDictionary<string, NpyArray> LoadArchive(string path)
    {
        using var archive = ZipFile.OpenRead(path);
        var arrays = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        foreach (var entry in archive.Entries)
        {
            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            string name = entry.FullName.EndsWith(".npy", StringComparison.Ordinal) ? entry.FullName[..^4] : entry.FullName;
            arrays[name] = Parse(buffer.ToArray(), $"{path}:{entry.FullName}");
        }
        return arrays;
    }

    private static NpyArray Parse(byte[] bytes, string path)
    {
        if (bytes.Length < 10 || bytes[0] != 0x93 || Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
        {
            throw new InvalidDataException($"{path} is not a .npy file.");
        }
        int major = bytes[6];
        int headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        int headerStart = major == 1 ? 10 : 12;
        string header = Encoding.ASCII.GetString(bytes, headerStart, headerLength);
        string descr = DescrPattern().Match(header).Groups[1].Value;
        if (FortranPattern().IsMatch(header))
        {
            throw new InvalidDataException($"{path}: Fortran-order arrays are not supported.");
        }
        var shape = ShapePattern().Match(header).Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(int.Parse).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var data = bytes.AsSpan(headerStart + headerLength);
        var values = new double[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = descr switch
            {
                "<f8" => BinaryPrimitives.ReadDoubleLittleEndian(data[(i * 8)..]),
                "<f4" => BinaryPrimitives.ReadSingleLittleEndian(data[(i * 4)..]),
                "<i8" => BinaryPrimitives.ReadInt64LittleEndian(data[(i * 8)..]),
                _ => throw new InvalidDataException($"{path}: dtype {descr} is not supported."),
            };
        }
        return new NpyArray(shape, values, descr);
    }

    [GeneratedRegex(@"'descr':\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order':\s*True")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
