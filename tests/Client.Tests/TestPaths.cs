namespace Dermxai.Client.Tests;

/// <summary>Where the tests find the repository, the shared golden set and the generated test models.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>$REPO/../shared/reference/golden/small: the 112×112, 7-class golden set (read only).</summary>
    public static string GoldenSmall => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "reference", "golden", "small"));

    public static string SmallModel => Path.Combine(RepoRoot, "tests", ".generated", "models", "small_f32.onnx");

    public static IReadOnlyList<string> GoldenImages =>
        Directory.GetFiles(Path.Combine(GoldenSmall, "images"), "*.png").Order(StringComparer.Ordinal).ToList();

    public static string RequireSmallModel()
    {
        if (!File.Exists(SmallModel))
            Assert.Fail($"Missing {SmallModel}: run ./test.sh (or bash tools/export_onnx/make_test_models.sh tests/.generated/models) first.");
        return SmallModel;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Dermxai.sln"))) return dir.FullName;
        throw new InvalidOperationException("Dermxai.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary folder, deleted when disposed.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dermxai-cli-" + Guid.NewGuid().ToString("N")[..12]);
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
