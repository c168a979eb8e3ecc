using Dermxai.Protocol.V1;

namespace Dermxai.Client.Explain;

/// <summary>
/// File names in the output folder, derived from each input's name without its extension. Two
/// inputs with the same name (from different folders) get "-2", "-3"... so nothing is overwritten.
/// </summary>
internal sealed class OutputNames
{
    private readonly Dictionary<string, string> _stemByInput = new(StringComparer.Ordinal);

    public OutputNames(IEnumerable<string> inputs)
    {
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var input in inputs)
        {
            var baseName = Path.GetFileNameWithoutExtension(input);
            var stem = baseName;
            for (var n = 2; !taken.Add(stem); n++) stem = $"{baseName}-{n}";
            _stemByInput[input] = stem;
        }
    }

    public string Stem(string input) => _stemByInput[input];

    /// <summary>
    /// "name.overlay.png" when the image has one explanation; "name.METHOD.CLASS.overlay.png" when it
    /// has several (several methods or targets).
    /// </summary>
    public string Png(string input, Explanation explanation, int explanationCount, string kind) =>
        explanationCount == 1
            ? $"{Stem(input)}.{kind}.png"
            : $"{Stem(input)}.{explanation.Method}.{explanation.Target?.Index ?? 0}.{kind}.png";

    /// <summary>The copy of the input photo that the HTML page shows.</summary>
    public string Photo(string input) => $"photos/{Stem(input)}{Path.GetExtension(input).ToLowerInvariant()}";
}
