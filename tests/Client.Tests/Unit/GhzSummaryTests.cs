using System.Diagnostics;
using Dermxai.Client.Bench;
using Dermxai.Client.Commands;
using Grpc.Core;

namespace Dermxai.Client.Tests.Unit;

public sealed class GhzSummaryTests
{
    private static readonly GhzOptions Options = new("127.0.0.1:5000", "dermxai.v1.DermxaiService.Classify", true, 4, 0, 5_000_000_000, 0, true, 2);

    private static long Ticks(double milliseconds) => (long)(milliseconds / 1000 * Stopwatch.Frequency);

    [Test]
    public void Nearest_rank_percentiles_follow_ghz()
    {
        long[] sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        // ghz: p% of n = 10 -> index ceil(p/100 * n) - 1
        Assert.That(GhzSummary.NearestRank(sorted, 10), Is.EqualTo(1));
        Assert.That(GhzSummary.NearestRank(sorted, 25), Is.EqualTo(3));
        Assert.That(GhzSummary.NearestRank(sorted, 50), Is.EqualTo(5));
        Assert.That(GhzSummary.NearestRank(sorted, 95), Is.EqualTo(10));
        Assert.That(GhzSummary.NearestRank(sorted, 99), Is.EqualTo(10));
        Assert.That(GhzSummary.NearestRank([42], 50), Is.EqualTo(42));
    }

    [Test]
    public void Summary_counts_statuses_errors_and_ok_latencies_like_ghz()
    {
        var run = new CallSamples { Elapsed = TimeSpan.FromSeconds(2) };
        foreach (var ms in new[] { 10.0, 20, 30, 40 }) run.Add(new CallSample(Ticks(ms), StatusCode.OK, null));
        run.Add(new CallSample(Ticks(1), StatusCode.Unavailable, "no model"));
        run.Add(new CallSample(Ticks(1), StatusCode.Cancelled, "gone"));

        var summary = GhzSummary.From(run, Options);

        Assert.That(summary.Count, Is.EqualTo(6));
        Assert.That(summary.Total, Is.EqualTo(2_000_000_000));
        Assert.That(summary.Rps, Is.EqualTo(3.0).Within(1e-9));
        Assert.That(summary.StatusCodeDistribution, Is.EqualTo(new Dictionary<string, int> { ["OK"] = 4, ["Unavailable"] = 1, ["Canceled"] = 1 }));
        Assert.That(summary.ErrorDistribution.Keys, Is.EquivalentTo(new[]
        {
            "rpc error: code = Unavailable desc = no model", "rpc error: code = Canceled desc = gone",
        }));
        Assert.That(summary.Fastest / 1e6, Is.EqualTo(10).Within(0.01), "fastest and slowest cover OK calls only");
        Assert.That(summary.Slowest / 1e6, Is.EqualTo(40).Within(0.01));
        Assert.That(summary.Average / 1e6, Is.EqualTo(102.0 / 6).Within(0.01), "the average covers every call");
        Assert.That(summary.Percentile(50) / 1e6, Is.EqualTo(20).Within(0.01));
        Assert.That(summary.Histogram.Sum(b => b.Count), Is.EqualTo(4));
        Assert.That(summary.Histogram[0].Mark, Is.EqualTo(0.010).Within(1e-6));
        Assert.That(summary.Histogram[^1].Mark, Is.EqualTo(0.040).Within(1e-6));
    }

    [Test]
    public void No_successful_call_gives_empty_distributions()
    {
        var run = new CallSamples { Elapsed = TimeSpan.FromSeconds(1) };
        run.Add(new CallSample(Ticks(1), StatusCode.Unavailable, "down"));
        var summary = GhzSummary.From(run, Options);
        Assert.That((summary.Fastest, summary.Slowest, summary.LatencyDistribution.Count, summary.Histogram.Count), Is.EqualTo((0L, 0L, 0, 0)));
    }

    [Test]
    public void A_framed_payload_is_the_grpc_length_prefixed_message()
    {
        byte[] message = [1, 2, 3, 0xFF];
        var framed = PayloadCommand.Frame(message);
        Assert.That(framed, Is.EqualTo(new byte[] { 0, 0, 0, 0, 4, 1, 2, 3, 0xFF }));
    }
}
