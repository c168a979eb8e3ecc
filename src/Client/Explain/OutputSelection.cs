namespace Dermxai.Client.Explain;

/// <summary>What `explain --outputs` asked for: overlay and heatmap PNGs, and grids in the JSON.</summary>
internal sealed record OutputSelection(bool Overlay, bool Heatmap, bool Grid)
{
    public const string Default = "overlay,grid";
    private static readonly string[] Known = ["overlay", "heatmap", "grid"];

    public bool AnyPng => Overlay || Heatmap;

    public static OutputSelection Parse(IReadOnlyList<string> names)
    {
        var unknown = names.Where(n => !Known.Contains(n, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count > 0)
            throw new FormatException($"Unknown --outputs value(s): {string.Join(", ", unknown)} (known: {string.Join(", ", Known)}).");
        bool Has(string name) => names.Contains(name, StringComparer.OrdinalIgnoreCase);
        return new OutputSelection(Has("overlay"), Has("heatmap"), Has("grid"));
    }
}
