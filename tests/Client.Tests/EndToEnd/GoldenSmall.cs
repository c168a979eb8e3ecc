using System.Text.Json;

namespace Dermxai.Client.Tests.EndToEnd;

/// <summary>
/// Independent expectations from the golden small set (computed by the published reference code,
/// not by Dermxai): its labels and, per image, the reference's argmax class.
/// </summary>
internal static class GoldenSmall
{
    public const int ImageSize = 112;
    public const int GridSide = 7;

    public static IReadOnlyList<string> Labels =>
        File.ReadAllLines(Path.Combine(TestPaths.GoldenSmall, "labels.txt")).Where(l => l.Length > 0).ToList();

    /// <summary>Image file name → the class the reference model predicts (cases with requested_target -1).</summary>
    public static IReadOnlyDictionary<string, int> PredictedClassByImage()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.GoldenSmall, "manifest.json")));
        return manifest.RootElement.GetProperty("cases").EnumerateArray()
            .Where(c => c.GetProperty("requested_target").GetInt32() == -1)
            .ToDictionary(c => Path.GetFileName(c.GetProperty("image").GetString()!), c => c.GetProperty("explained_target").GetInt32());
    }

    /// <summary>A folder with copies of the golden images and one file that is not an image.</summary>
    public static string FolderWithOneBrokenFile(TempFolder temp, out string brokenFile)
    {
        var folder = Directory.CreateDirectory(Path.Combine(temp.Path, "in")).FullName;
        foreach (var image in TestPaths.GoldenImages) File.Copy(image, Path.Combine(folder, Path.GetFileName(image)));
        brokenFile = Path.Combine(folder, "broken.png");
        File.WriteAllBytes(brokenFile, "this is not a PNG, only its name says so"u8.ToArray());
        return folder;
    }
}

/// <summary>Reads a PNG's width and height from its IHDR chunk.</summary>
internal static class PngHeader
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static (int Width, int Height) Size(string file)
    {
        var bytes = File.ReadAllBytes(file);
        Assert.That(bytes.AsSpan(0, 8).SequenceEqual(Signature), Is.True, $"{file} is not a PNG");
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)),
                System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }
}
