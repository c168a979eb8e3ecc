namespace Dermxai.Server.Viewer;

/// <summary>
/// The warning the viewer always shows: the title and first bold paragraph of MODEL_CARD.md beside the
/// model file (the bundled card opens with "DEMO ONLY, NEVER FOR DIAGNOSIS"), or, without a card, a
/// sentence saying that the model's intended use is undocumented.
/// </summary>
internal sealed record ModelCardWarning(string Title, string Warning, bool FromModelCard)
{
    internal const string FileName = "MODEL_CARD.md";
    private const int MaxLength = 1000;

    internal static ModelCardWarning Read(string modelPath)
    {
        string card = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".", FileName);
        if (!File.Exists(card))
            return new("No model card", $"No {FileName} lies beside the model, so its intended use and limits are undocumented. " +
                "The maps show what drove the model's answer; they are not a diagnosis.", false);
        var lines = File.ReadAllLines(card);
        string title = lines.FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))?[2..].Trim() ?? "Model card";
        var paragraph = lines.SkipWhile(l => !l.TrimStart().StartsWith("**", StringComparison.Ordinal))
            .TakeWhile(l => !string.IsNullOrWhiteSpace(l));
        string warning = string.Join(' ', paragraph.Select(l => l.Trim())).Replace("**", "", StringComparison.Ordinal);
        if (warning.Length == 0) warning = $"Read {FileName} beside the model for its intended use and limits.";
        return new(Bound(title), Bound(warning), true);
    }

    private static string Bound(string text) => text.Length <= MaxLength ? text : text[..(MaxLength - 1)] + "…";
}
