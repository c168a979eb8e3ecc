namespace Dermxai.Client.Inputs;

/// <summary>
/// Turns command-line PATHS into image files: a file is taken as given; a folder contributes its
/// JPEG and PNG files (not recursively); a glob has wildcards (* ?) in its last segment only, with an
/// optional "**" segment before it for "this folder and every folder below".
/// A path that matches nothing is returned as missing so the caller can report it.
/// </summary>
internal static class InputPaths
{
    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png" };

    public sealed record Expansion(IReadOnlyList<string> Files, IReadOnlyList<string> Missing);

    public static Expansion Expand(IEnumerable<string> paths)
    {
        var files = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var path in paths)
        {
            var matches = ExpandOne(path);
            if (matches.Count == 0) missing.Add(path);
            foreach (var match in matches)
                if (seen.Add(Path.GetFullPath(match))) files.Add(match);
        }
        return new Expansion(files, missing);
    }

    public static bool IsImageFile(string path) => ImageExtensions.Contains(Path.GetExtension(path));

    private static List<string> ExpandOne(string path)
    {
        if (File.Exists(path)) return [path];
        if (Directory.Exists(path)) return ImagesIn(path, SearchOption.TopDirectoryOnly, "*");
        if (!HasWildcard(path)) return [];

        var pattern = Path.GetFileName(path);
        var folder = Path.GetDirectoryName(path) ?? "";
        var option = SearchOption.TopDirectoryOnly;
        if (Path.GetFileName(folder) == "**")
        {
            folder = Path.GetDirectoryName(folder) ?? "";
            option = SearchOption.AllDirectories;
        }
        if (folder.Length == 0) folder = ".";
        if (HasWildcard(folder) || !Directory.Exists(folder)) return [];
        return Directory.EnumerateFiles(folder, pattern, option).Where(File.Exists).Order(StringComparer.Ordinal).ToList();
    }

    private static List<string> ImagesIn(string folder, SearchOption option, string pattern) =>
        Directory.EnumerateFiles(folder, pattern, option).Where(IsImageFile).Order(StringComparer.Ordinal).ToList();

    private static bool HasWildcard(string path) => path.Contains('*') || path.Contains('?');
}
