using System.Collections.Concurrent;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Dermxai.TestSupport;

/// <summary>One golden model set (small, tiny224) of tests/golden, read from its manifest.json.</summary>
public sealed class GoldenSet
{
    private static readonly ConcurrentDictionary<string, GoldenSet> loaded = new(StringComparer.Ordinal);

    private GoldenSet(string name, string folder, GoldenModel model, IReadOnlyList<GoldenCase> cases)
    {
        Name = name;
        Folder = folder;
        Model = model;
        Cases = cases;
    }

    public string Name { get; }

    public string Folder { get; }

    public GoldenModel Model { get; }

    public IReadOnlyList<GoldenCase> Cases { get; }

    public static IReadOnlyList<string> ModelSetNames { get; } = ["small", "tiny224"];

    public static GoldenSet Load(string name) => loaded.GetOrAdd(name, Read);

    /// <summary>The network input of image K: (imgK.png / 255 − mean) / std in float64, [3,S,S].</summary>
    public double[] PixelValues(int imageIndex)
    {
        using var image = Image.Load<Rgb24>(RepositoryPaths.GoldenFile(Name, "images", $"img{imageIndex}.png"));
        int plane = image.Width * image.Height;
        var values = new double[3 * plane];
        for (int y = 0; y < image.Height; y++)
        for (int x = 0; x < image.Width; x++)
        {
            var pixel = image[x, y];
            int at = y * image.Width + x;
            values[at] = (pixel.R / 255.0 - Model.Mean[0]) / Model.Std[0];
            values[plane + at] = (pixel.G / 255.0 - Model.Mean[1]) / Model.Std[1];
            values[2 * plane + at] = (pixel.B / 255.0 - Model.Mean[2]) / Model.Std[2];
        }
        return values;
    }

    private static GoldenSet Read(string name)
    {
        string folder = Path.Combine(RepositoryPaths.Golden, name);
        using var manifest = JsonDocument.Parse(File.ReadAllText(RepositoryPaths.GoldenFile(name, "manifest.json")));
        var root = manifest.RootElement;
        var model = root.GetProperty("model");
        static double[] Triple(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var goldenModel = new GoldenModel(model.GetProperty("depth").GetInt32(), model.GetProperty("heads").GetInt32(),
            model.GetProperty("classes").GetInt32(), model.GetProperty("grid").GetInt32(), model.GetProperty("tokens").GetInt32(),
            model.GetProperty("image_size").GetInt32(), Triple(model.GetProperty("mean")), Triple(model.GetProperty("std")));
        var cases = new List<GoldenCase>();
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            var maps = new Dictionary<string, GoldenMapInfo>();
            foreach (var map in c.GetProperty("maps").EnumerateObject())
            {
                maps[map.Name] = new GoldenMapInfo(map.Name, map.Value.GetProperty("ref_float32_rel_err").GetDouble(),
                    map.Value.GetProperty("tolerance").GetDouble());
            }
            string caseName = c.GetProperty("case").GetString()!;
            cases.Add(new GoldenCase(name, caseName, Path.Combine(folder, "cases", caseName + ".npz"),
                c.GetProperty("image").GetString()!, c.GetProperty("image_index").GetInt32(),
                c.GetProperty("requested_target").GetInt32(), c.GetProperty("explained_target").GetInt32(),
                c.GetProperty("has_tensors").GetBoolean(), c.GetProperty("has_last_block").GetBoolean(), maps));
        }
        return new GoldenSet(name, folder, goldenModel, cases);
    }
}

public sealed record GoldenModel(int Depth, int Heads, int Classes, int Grid, int Tokens, int ImageSize,
    double[] Mean, double[] Std);

public sealed record GoldenMapInfo(string Key, double RefFloat32RelErr, double Tolerance);

/// <summary>
/// A golden case: one image (Image, relative to the set's folder) explained for RequestedTarget (-1 = argmax);
/// its arrays live in cases/NAME.npz. Tensors are [L,H,N,N] for this image (HasTensors), or the last
/// block's attn and attn_grad alone, [H,N,N] (HasLastBlock).
/// </summary>
public sealed record GoldenCase(string Set, string Name, string ArchivePath, string Image, int ImageIndex, int RequestedTarget,
    int ExplainedTarget, bool HasTensors, bool HasLastBlock, IReadOnlyDictionary<string, GoldenMapInfo> Maps)
{
    private static readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, NpyArray>> archives = new(StringComparer.Ordinal);

    /// <summary>One array of the case by name ("logits", "attn", "map_raw_attention_ref32", …).</summary>
    public NpyArray Load(string array)
    {
        var arrays = archives.GetOrAdd(ArchivePath, path => NpyArray.LoadArchive(RepositoryPaths.GoldenFile(Set, "cases", Path.GetFileName(path))));
        return arrays.TryGetValue(array, out var values)
            ? values
            : throw new KeyNotFoundException($"{ArchivePath} has no array '{array}' (has: {string.Join(", ", arrays.Keys.Order())}).");
    }

    /// <summary>The photo's encoded bytes (a PNG of exactly the model's input size).</summary>
    public byte[] ImageBytes() => File.ReadAllBytes(RepositoryPaths.GoldenFile(Set, Image));

    /// <summary>The reference's float64 map for a manifest key such as "transformer_attribution_s1".</summary>
    public double[] ReferenceMap(string key) => Load($"map_{key}").Values;

    public float[] Attention() => Load("attn").ToFloat32();

    public float[] AttentionGradient() => Load("attn_grad").ToFloat32();

    public float[] AttentionRelevance() => Load("attn_rel").ToFloat32();
}

/// <summary>Error measures used by the conformance tests.</summary>
public static class Errors
{
    /// <summary>max |actual − expected| / max |expected| (max abs error when expected is all zero).</summary>
    public static double Relative(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length)
        {
            throw new ArgumentException($"actual has {actual.Length} values, expected {expected.Length}.");
        }
        double maxError = 0, maxReference = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            maxError = Math.Max(maxError, Math.Abs(actual[i] - expected[i]));
            maxReference = Math.Max(maxReference, Math.Abs(expected[i]));
        }
        return maxReference == 0 ? maxError : maxError / maxReference;
    }
}
