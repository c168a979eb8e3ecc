using System.Globalization;
using Dermxai.Protocol.V1;

namespace Dermxai.Client.Cli;

/// <summary>Human text for the differential: "melanoma 0.912".</summary>
internal static class PredictionText
{
    public static string Score(ClassScore score) =>
        $"{score.Label} {score.Probability.ToString("0.000", CultureInfo.InvariantCulture)}";

    public static string Differential(IEnumerable<ClassScore> scores, int count) =>
        string.Join(", ", scores.Take(count).Select(Score));
}
