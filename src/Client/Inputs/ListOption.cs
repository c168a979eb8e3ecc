namespace Dermxai.Client.Inputs;

/// <summary>Comma-separated option values ("a,b" or repeated options), trimmed, empty parts dropped.</summary>
internal static class ListOption
{
    public static IReadOnlyList<string> Split(IEnumerable<string>? values) =>
        values?.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList() ?? [];
}
