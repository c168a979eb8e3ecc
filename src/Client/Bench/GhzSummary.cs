using System.Diagnostics;
using System.Text.Json.Serialization;
using Grpc.Core;

namespace Dermxai.Client.Bench;

/// <summary>
/// A load test's summary in the shape of ghz's JSON report (github.com/bojand/ghz, runner/reporter.go):
/// durations are integer nanoseconds; fastest, slowest and the latency distribution cover successful
/// calls only; average covers every call; percentiles use ghz's nearest-rank rule.
/// </summary>
internal sealed record GhzSummary(
    [property: JsonPropertyName("date")] string Date,
    [property: JsonPropertyName("endReason")] string EndReason,
    [property: JsonPropertyName("options")] GhzOptions Options,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("average")] long Average,
    [property: JsonPropertyName("fastest")] long Fastest,
    [property: JsonPropertyName("slowest")] long Slowest,
    [property: JsonPropertyName("rps")] double Rps,
    [property: JsonPropertyName("errorDistribution")] SortedDictionary<string, int> ErrorDistribution,
    [property: JsonPropertyName("statusCodeDistribution")] SortedDictionary<string, int> StatusCodeDistribution,
    [property: JsonPropertyName("latencyDistribution")] List<GhzLatency> LatencyDistribution,
    [property: JsonPropertyName("histogram")] List<GhzBucket> Histogram,
    [property: JsonPropertyName("details")] List<object> Details)
{
    public static readonly int[] Percentages = [10, 25, 50, 75, 90, 95, 99];
    private const int HistogramBuckets = 10;

    public long Percentile(int percentage) => LatencyDistribution.FirstOrDefault(l => l.Percentage == percentage)?.Latency ?? 0;

    /// <summary>ghz's end reasons: "timeout" when the run's time is up, "normal" when its call count is done.</summary>
    public const string TimeUp = "timeout", CountDone = "normal";

    public static GhzSummary From(CallSamples run, GhzOptions options, string endReason = TimeUp)
    {
        var samples = run.Snapshot();
        var okLatencies = samples.Where(s => s.Status == StatusCode.OK).Select(s => Nanoseconds(s.LatencyTicks)).Order().ToArray();
        var average = samples.Count == 0 ? 0 : (long)samples.Average(s => (double)Nanoseconds(s.LatencyTicks));
        var total = (long)(run.Elapsed.Ticks * 100L);
        return new GhzSummary(
            DateTimeOffset.Now.ToString("yyyy-MM-ddTHH:mm:sszzz"),
            endReason,
            options,
            samples.Count,
            total,
            average,
            okLatencies.FirstOrDefault(),
            okLatencies.LastOrDefault(),
            total == 0 ? 0 : samples.Count / (total / 1e9),
            CountBy(samples.Where(s => s.Status != StatusCode.OK).Select(s => $"rpc error: code = {GoName(s.Status)} desc = {s.Error}")),
            CountBy(samples.Select(s => GoName(s.Status))),
            okLatencies.Length == 0 ? [] : Percentages.Select(p => new GhzLatency(p, NearestRank(okLatencies, p))).ToList(),
            okLatencies.Length == 0 ? [] : BuildHistogram(okLatencies),
            []);
    }

    /// <summary>ghz: the value at index ceil(p/100 · n) − 1 of the sorted latencies.</summary>
    internal static long NearestRank(long[] sorted, int percentage)
    {
        var rank = percentage / 100.0 * sorted.Length;
        var index = (int)rank;
        if (rank == index) index--;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }

    /// <summary>ghz's status names are Go's codes.Code strings ("OK", "Unavailable", "Canceled").</summary>
    internal static string GoName(StatusCode code) => code == StatusCode.Cancelled ? "Canceled" : code.ToString();

    private static long Nanoseconds(long stopwatchTicks) => (long)(stopwatchTicks * (1e9 / Stopwatch.Frequency));

    private static SortedDictionary<string, int> CountBy(IEnumerable<string> keys)
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var key in keys) counts[key] = counts.GetValueOrDefault(key) + 1;
        return counts;
    }

    /// <summary>Ten equal-width buckets from the fastest to the slowest call; marks in seconds, as ghz.</summary>
    private static List<GhzBucket> BuildHistogram(long[] sorted)
    {
        double fastest = sorted[0] / 1e9, slowest = sorted[^1] / 1e9;
        var width = (slowest - fastest) / HistogramBuckets;
        var marks = Enumerable.Range(0, HistogramBuckets + 1).Select(i => i == HistogramBuckets ? slowest : fastest + width * i).ToArray();
        var counts = new int[marks.Length];
        var bucket = 0;
        foreach (var latency in sorted)
        {
            var seconds = latency / 1e9;
            while (seconds > marks[bucket] && bucket < marks.Length - 1) bucket++;
            counts[bucket]++;
        }
        return marks.Select((mark, i) => new GhzBucket(mark, counts[i], (double)counts[i] / sorted.Length)).ToList();
    }
}

internal sealed record GhzLatency(
    [property: JsonPropertyName("percentage")] int Percentage,
    [property: JsonPropertyName("latency")] long Latency);

internal sealed record GhzBucket(
    [property: JsonPropertyName("mark")] double Mark,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("frequency")] double Frequency);

/// <summary>The run's settings, under ghz's option names (durations in ns).</summary>
internal sealed record GhzOptions(
    [property: JsonPropertyName("host")] string Host,
    [property: JsonPropertyName("call")] string Call,
    [property: JsonPropertyName("insecure")] bool Insecure,
    [property: JsonPropertyName("concurrency")] int Concurrency,
    [property: JsonPropertyName("qps")] double Qps,
    [property: JsonPropertyName("duration")] long Duration,
    [property: JsonPropertyName("timeout")] long Timeout,
    [property: JsonPropertyName("binary")] bool Binary,
    [property: JsonPropertyName("CPUs")] int Cpus);
