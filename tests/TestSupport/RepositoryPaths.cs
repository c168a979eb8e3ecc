namespace Dermxai.TestSupport;

/// <summary>Locates the repository root and the read-only shared reference folder ("$REPO/../shared").</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> root = new(FindRoot);

    /// <summary>The folder holding Dermxai.sln, found by walking up from the test binaries.</summary>
    public static string Root => root.Value;

    /// <summary>$REPO/../shared, or DERMXAI_SHARED when set.</summary>
    public static string Shared =>
        Environment.GetEnvironmentVariable("DERMXAI_SHARED") is { Length: > 0 } custom
            ? custom
            : Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    public static string Golden => Path.Combine(Shared, "reference", "golden");

    /// <summary>
    /// tests/.generated/models/NAME.onnx, exported by ./test.sh; throws, naming the command to run, when
    /// it is missing.
    /// </summary>
    public static string GeneratedModel(string name)
    {
        string path = Path.Combine(Root, "tests", ".generated", "models", name + ".onnx");
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"Test model {path} is missing: run ./test.sh, or `bash tools/export_onnx/make_test_models.sh tests/.generated/models` from the repo root.", path);
        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dermxai.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException($"No Dermxai.sln above {AppContext.BaseDirectory}.");
    }
}
