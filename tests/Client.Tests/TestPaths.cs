using Dermxai.TestSupport;

namespace Dermxai.Client.Tests;

/// <summary>Where the tests find the repository, the golden set and the generated test models.</summary>
internal static class TestPaths
{
    public static string RepoRoot => RepositoryPaths.Root;

    /// <summary>tests/golden/small: the 112×112, 7-class golden set.</summary>
    public static string GoldenSmall => Path.Combine(RepositoryPaths.Golden, "small");

    public static IReadOnlyList<string> GoldenImages =>
        Directory.GetFiles(Path.Combine(GoldenSmall, "images"), "*.png").Order(StringComparer.Ordinal).ToList();

    public static string RequireSmallModel() => RepositoryPaths.GeneratedModel("small_f32");
}

/// <summary>A temporary folder, deleted when disposed.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dermxai-cli-" + Guid.NewGuid().ToString("N")[..12]);
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
