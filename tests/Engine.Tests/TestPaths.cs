using Dermxai.TestSupport;

namespace Dermxai.Tests;

/// <summary>The golden test models exported into tests/.generated/models by the repo's test script.</summary>
internal static class TestPaths
{
    /// <summary>tests/.generated/models/NAME.onnx.</summary>
    internal static string Model(string name) => RepositoryPaths.GeneratedModel(name);

    /// <summary>Per golden case: which image it explains and the target it asked for (-1 = argmax).</summary>
    internal static IReadOnlyDictionary<string, (int ImageIndex, int RequestedTarget, string Image)> CaseInputs(string set)
    {
        using var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Golden, set, "manifest.json")));
        var result = new Dictionary<string, (int, int, string)>();
        foreach (var c in manifest.RootElement.GetProperty("cases").EnumerateArray())
            result[c.GetProperty("case").GetString()!] = (c.GetProperty("image_index").GetInt32(),
                c.GetProperty("requested_target").GetInt32(), c.GetProperty("image").GetString()!);
        return result;
    }
}
