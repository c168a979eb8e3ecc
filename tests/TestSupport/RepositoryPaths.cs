namespace Dermxai.TestSupport;

/// <summary>Locates the repository root, its golden sets and the generated test models.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> root = new(FindRoot);

    /// <summary>The folder holding Dermxai.sln, found by walking up from the test binaries.</summary>
    public static string Root => root.Value;

    /// <summary>tests/golden: the reference code's outputs the tests compare with (README there).</summary>
    public static string Golden => Path.Combine(Root, "tests", "golden");

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

    /// <summary>A file under tests/golden; throws with the reason when the repository lacks it.</summary>
    public static string GoldenFile(params string[] parts)
    {
        string path = Path.Combine([Golden, .. parts]);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"Golden file {path} is missing: the golden sets are part of the repository (tests/golden/README.md); restore them with git checkout.", path);
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
