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
