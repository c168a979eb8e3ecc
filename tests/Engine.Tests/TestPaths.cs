namespace Dermxai.Tests;

/// <summary>Where the test inputs live: the repo root (folder with Dermxai.sln), the exported test models, the golden sets.</summary>
internal static class TestPaths
{
    internal static string RepoRoot { get; } = FindRepoRoot();

    internal static string Golden => Path.Combine(RepoRoot, "..", "shared", "reference", "golden");

    /// <summary>tests/.generated/models/NAME.onnx; fails the test with what to run when it is missing.</summary>
    internal static string Model(string name)
    {
        string path = Path.Combine(RepoRoot, "tests", ".generated", "models", name + ".onnx");
        if (!File.Exists(path))
            Assert.Fail($"Test model {path} is missing: run ./test.sh, or `bash tools/export_onnx/make_test_models.sh tests/.generated/models` from the repo root.");
        return path;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Dermxai.sln"))) return dir.FullName;
        throw new InvalidOperationException("No folder above the test assembly holds Dermxai.sln.");
    }
}
