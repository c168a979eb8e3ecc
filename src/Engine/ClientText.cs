namespace Dermxai.Engine;

/// <summary>
/// Client-supplied text (method ids, class labels, colormaps, tensor shapes) as refusals and logs show
/// it: at most <see cref="MaxShown"/> characters, control characters replaced, so a caller can neither
/// blow up a status message or log line nor forge lines in it.
/// </summary>
internal static class ClientText
{
    /// <summary>The longest prefix of a client's string that a message repeats.</summary>
    internal const int MaxShown = 64;

    /// <summary>'text' in quotes, cut to <see cref="MaxShown"/> characters ("'abc…' (1048576 characters)").</summary>
    internal static string Quote(string? text)
    {
        text ??= "";
        var shown = string.Create(Math.Min(text.Length, MaxShown), text,
            static (span, source) => { for (int i = 0; i < span.Length; i++) span[i] = char.IsControl(source[i]) ? '?' : source[i]; });
        return text.Length <= MaxShown ? $"'{shown}'" : $"'{shown}…' ({text.Length} characters)";
    }

    /// <summary>A client's tensor shape, "[1, 2, 3]", with at most 8 dimensions shown.</summary>
    internal static string Shape(IReadOnlyCollection<long> shape) =>
        $"[{string.Join(", ", shape.Take(8))}{(shape.Count > 8 ? $", … ({shape.Count} dimensions)" : "")}]";
}
