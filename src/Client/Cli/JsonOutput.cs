using System.Text.Json;
using System.Text.Json.Serialization;
using Dermxai.Protocol.V1;
using Spectre.Console;

namespace Dermxai.Client.Cli;

/// <summary>The JSON the CLI writes: snake_case names as in the proto, indented.</summary>
internal static class JsonOutput
{
    public const string StandardOutput = "-";

    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes <paramref name="value"/> to a file, or to the output console for "-".</summary>
    public static void Write<T>(IAnsiConsole console, string destination, T value, JsonSerializerOptions? options = null)
    {
        var json = JsonSerializer.Serialize(value, options ?? Options);
        if (destination == StandardOutput)
        {
            console.Profile.Out.Writer.WriteLine(json);
            return;
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(destination));
        if (folder is not null) Directory.CreateDirectory(folder);
        File.WriteAllText(destination, json + Environment.NewLine);
    }
}

/// <summary>One class of the differential, as written to JSON.</summary>
internal sealed record ScoreJson(int Index, string Label, float Probability, float Logit)
{
    public static ScoreJson From(ClassScore score) => new(score.Index, score.Label, score.Probability, score.Logit);
    public static List<ScoreJson> FromAll(IEnumerable<ClassScore> scores) => scores.Select(From).ToList();
}

/// <summary>Server-side timings in milliseconds, as written to JSON.</summary>
internal sealed record TimingsJson(double DecodeMs, double QueueMs, double InferenceMs, double AttributionMs, double RenderMs, double TotalMs)
{
    public static TimingsJson? From(Timings? t) =>
        t is null ? null : new(t.DecodeMs, t.QueueMs, t.InferenceMs, t.AttributionMs, t.RenderMs, t.TotalMs);
}
