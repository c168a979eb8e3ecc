using Dermxai.TestSupport;

namespace Dermxai.Tests;

/// <summary>The golden test models exported into tests/.generated/models by the repo's test script.</summary>
internal static class TestPaths
{
    /// <summary>tests/.generated/models/NAME.onnx; fails the test with what to run when it is missing.</summary>
    internal static string Model(string name)
    {
        string path = Path.Combine(RepositoryPaths.Root, "tests", ".generated", "models", name + ".onnx");
        if (!File.Exists(path))
            Assert.Fail($"Test model {path} is missing: run ./test.sh, or `bash tools/export_onnx/make_test_models.sh tests/.generated/models` from the repo root.");
        return path;
    }

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
