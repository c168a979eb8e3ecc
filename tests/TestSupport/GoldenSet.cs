using System.Text.Json;

namespace Dermxai.TestSupport;

/// <summary>One golden model folder (small, tiny224) of shared/reference/golden, read from its manifest.json.</summary>
public sealed class GoldenSet
{
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

    public static GoldenSet Load(string name)
    {
        string folder = Path.Combine(RepositoryPaths.Golden, name);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "manifest.json")));
        var root = manifest.RootElement;
        var model = root.GetProperty("model");
        var goldenModel = new GoldenModel(model.GetProperty("depth").GetInt32(), model.GetProperty("heads").GetInt32(),
            model.GetProperty("classes").GetInt32(), model.GetProperty("grid").GetInt32(), model.GetProperty("tokens").GetInt32());
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
            cases.Add(new GoldenCase(caseName, Path.Combine(folder, "cases", caseName), c.GetProperty("explained_target").GetInt32(),
                c.GetProperty("has_tensors").GetBoolean(), maps));
        }
        return new GoldenSet(name, folder, goldenModel, cases);
    }
}

public sealed record GoldenModel(int Depth, int Heads, int Classes, int Grid, int Tokens);

public sealed record GoldenMapInfo(string Key, double RefFloat32RelErr, double Tolerance);

/// <summary>A golden case; tensors are [L,H,N,N] for one image.</summary>
public sealed record GoldenCase(string Name, string Folder, int ExplainedTarget, bool HasTensors,
    IReadOnlyDictionary<string, GoldenMapInfo> Maps)
{
    public NpyArray Load(string file) => NpyArray.Load(Path.Combine(Folder, file));

    /// <summary>The reference's float64 map for a manifest key such as "transformer_attribution_s1".</summary>
    public double[] ReferenceMap(string key) => Load($"map_{key}.npy").Values;

    public float[] Attention() => Load("attn.npy").ToFloat32();

    public float[] AttentionGradient() => Load("attn_grad.npy").ToFloat32();

    public float[] AttentionRelevance() => Load("attn_rel.npy").ToFloat32();
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
