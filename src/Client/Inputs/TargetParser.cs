using Dermxai.Protocol.V1;

namespace Dermxai.Client.Inputs;

/// <summary>
/// Parses --target values: "predicted", "top-k:N", a class index ("3") or a class label (anything
/// else, matched exactly by the server).
/// </summary>
internal static class TargetParser
{
    private const string TopKPrefix = "top-k:";

    public static TargetSpec Parse(string text)
    {
        if (text.Equals("predicted", StringComparison.OrdinalIgnoreCase)) return new TargetSpec { Predicted = new TargetSpec.Types.Predicted() };
        if (text.StartsWith(TopKPrefix, StringComparison.OrdinalIgnoreCase))
        {
            var count = text[TopKPrefix.Length..];
            if (!int.TryParse(count, out var k) || k < 1)
                throw new FormatException($"'{text}': top-k needs a whole number >= 1, e.g. top-k:3.");
            return new TargetSpec { TopClasses = k };
        }
        if (int.TryParse(text, out var index)) return new TargetSpec { ClassIndex = index };
        return new TargetSpec { ClassLabel = text };
    }

    public static IReadOnlyList<TargetSpec> ParseAll(IEnumerable<string>? texts) =>
        texts?.Select(Parse).ToList() ?? [];
}
