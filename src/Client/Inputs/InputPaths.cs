namespace Dermxai.Client.Inputs;

/// <summary>
/// Turns command-line PATHS into image files: a file is taken as given; a folder contributes its
/// JPEG and PNG files (with <c>recursive</c>, those of every folder below too); <c>dir/**</c> is that
/// folder and every folder below; a glob has wildcards (* ?) in its last segment only, with an
/// optional "**" segment before it for "this folder and every folder below".
/// A path that gives no file is returned as unmatched, with the reason, so the caller can report it.
/// </summary>
internal static class InputPaths
{
    private const string EveryFolderBelow = "**";
    private const int SubfoldersNamed = 3;
    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png" };

    /// <summary>A command-line path that gave no file, and why (one clause, e.g. "no such file or folder").</summary>
    public sealed record Unmatched(string Path, string Reason);

    public sealed record Expansion(IReadOnlyList<string> Files, IReadOnlyList<Unmatched> Missing);

    public static Expansion Expand(IEnumerable<string> paths, bool recursive = false)
    {
        var files = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<Unmatched>();
        foreach (var path in paths)
        {
            var matches = ExpandOne(path, recursive);
            if (matches.Count == 0) missing.Add(new Unmatched(path, WhyNothing(path, recursive)));
            foreach (var match in matches)
                if (seen.Add(Path.GetFullPath(match))) files.Add(match);
        }
        return new Expansion(files, missing);
    }

    public static bool IsImageFile(string path) => ImageExtensions.Contains(Path.GetExtension(path));

    private static List<string> ExpandOne(string path, bool recursive)
    {
        if (File.Exists(path)) return [path];
        if (Directory.Exists(path)) return ImagesIn(path, recursive);
        if (Path.GetFileName(path) == EveryFolderBelow)
        {
            var folder = FolderOrCurrent(Path.GetDirectoryName(path));
            return Directory.Exists(folder) ? ImagesIn(folder, true) : [];
        }
        if (!HasWildcard(path)) return [];

        var pattern = Path.GetFileName(path);
        var (root, option) = GlobFolder(path);
        if (HasWildcard(root) || !Directory.Exists(root)) return [];
        return Directory.EnumerateFiles(root, pattern, option).Where(File.Exists).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The folder a glob searches, and whether below it ("dir/**/*.png").</summary>
    private static (string Folder, SearchOption Option) GlobFolder(string glob)
    {
        var folder = Path.GetDirectoryName(glob) ?? "";
        if (Path.GetFileName(folder) != EveryFolderBelow) return (FolderOrCurrent(folder), SearchOption.TopDirectoryOnly);
        return (FolderOrCurrent(Path.GetDirectoryName(folder)), SearchOption.AllDirectories);
    }

    /// <summary>The reason a path gave no file: what is there instead, and what to do about it.</summary>
    private static string WhyNothing(string path, bool recursive)
    {
        if (Directory.Exists(path)) return EmptyFolder("the folder", path, recursive);
        if (Path.GetFileName(path) == EveryFolderBelow)
        {
            var folder = FolderOrCurrent(Path.GetDirectoryName(path));
            return Directory.Exists(folder) ? EmptyFolder(folder, folder, true) : $"no such folder {folder}";
        }
        if (!HasWildcard(path)) return "no such file or folder";
        var (root, _) = GlobFolder(path);
        return Directory.Exists(root) ? $"no file in {root} matches {Path.GetFileName(path)}" : $"no such folder {root}";
    }

    /// <summary>Why a folder gave nothing; <paramref name="subject"/> is how the sentence names it.</summary>
    private static string EmptyFolder(string subject, string folder, bool recursive)
    {
        if (recursive) return $"{subject} and its subfolders hold no JPEG or PNG images";
        var subfolders = Directory.GetDirectories(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        if (subfolders.Count == 0) return $"{subject} holds no JPEG or PNG images";
        var named = string.Join(", ", subfolders.Take(SubfoldersNamed)) + (subfolders.Count > SubfoldersNamed ? ", …" : "");
        var noun = subfolders.Count == 1 ? "subfolder" : "subfolders";
        return $"{subject} holds no JPEG or PNG images; it has {subfolders.Count} {noun} ({named}): " +
               $"use --recursive or {Path.Combine(folder, EveryFolderBelow)}";
    }

    private static List<string> ImagesIn(string folder, bool recursive) =>
        Directory.EnumerateFiles(folder, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly)
            .Where(IsImageFile).Order(StringComparer.Ordinal).ToList();

    private static string FolderOrCurrent(string? folder) => string.IsNullOrEmpty(folder) ? "." : folder;

    private static bool HasWildcard(string path) => path.Contains('*') || path.Contains('?');
}
