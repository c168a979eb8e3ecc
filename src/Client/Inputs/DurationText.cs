using System.Globalization;

namespace Dermxai.Client.Inputs;

/// <summary>Durations as ghz writes them: "10s", "500ms", "2m", or plain seconds ("5", "0.5").</summary>
internal static class DurationText
{
    public static TimeSpan Parse(string text)
    {
        var trimmed = text.Trim();
        var (number, unit) = Split(trimmed);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || double.IsInfinity(value))
            throw new FormatException($"'{text}' is not a duration (e.g. 10s, 500ms, 2m, or seconds).");
        return unit switch
        {
            "" or "s" => TimeSpan.FromSeconds(value),
            "ms" => TimeSpan.FromMilliseconds(value),
            "m" => TimeSpan.FromMinutes(value),
            "h" => TimeSpan.FromHours(value),
            _ => throw new FormatException($"'{text}': unknown unit '{unit}' (use ms, s, m or h)."),
        };
    }

    private static (string Number, string Unit) Split(string text)
    {
        var end = text.Length;
        while (end > 0 && char.IsLetter(text[end - 1])) end--;
        return (text[..end], text[end..].ToLowerInvariant());
    }
}
