using System.Text.Json;

namespace Dermxai.Client.Tests.EndToEnd;

[TestFixture]
public sealed class BenchCommandTests
{
    [Test]
    public async Task A_five_second_closed_loop_bench_reports_a_ghz_shaped_summary()
    {
        var (run, summary) = await BenchClassifyAsync("--duration", "5", "--warmup", "0");
        using var _ = summary;
        Assert.That(run.Out, Does.Contain("p50").And.Contain("p99").And.Contain("Req/s"));
        var root = summary.RootElement;
        var count = root.GetProperty("count").GetInt64();
        var totalNs = root.GetProperty("total").GetInt64();
        Assert.That(count, Is.GreaterThan(0));
        Assert.That(totalNs, Is.GreaterThanOrEqualTo(5_000_000_000L));
        Assert.That(root.GetProperty("rps").GetDouble(), Is.EqualTo(count / (totalNs / 1e9)).Within(1e-6).Percent);
        Assert.That(root.GetProperty("statusCodeDistribution").GetProperty("OK").GetInt64(), Is.EqualTo(count));
        Assert.That(root.GetProperty("errorDistribution").EnumerateObject(), Is.Empty);
        Assert.That(root.GetProperty("options").GetProperty("call").GetString(), Is.EqualTo("dermxai.v1.DermxaiService.Classify"));

        var distribution = root.GetProperty("latencyDistribution").EnumerateArray().ToList();
        Assert.That(distribution.Select(d => d.GetProperty("percentage").GetInt32()), Is.EqualTo(new[] { 10, 25, 50, 75, 90, 95, 99 }));
        var latencies = distribution.Select(d => d.GetProperty("latency").GetInt64()).ToList();
        Assert.That(latencies, Is.Ordered);
        Assert.That(root.GetProperty("fastest").GetInt64(), Is.LessThanOrEqualTo(latencies[0]).And.GreaterThan(0));
        Assert.That(root.GetProperty("slowest").GetInt64(), Is.GreaterThanOrEqualTo(latencies[^1]));
        Assert.That(root.GetProperty("histogram").EnumerateArray().Sum(b => b.GetProperty("count").GetInt64()), Is.EqualTo(count));
    }

    [Test]
    public async Task A_counted_bench_measures_exactly_the_requests_asked_for()
    {
        var (run, summary) = await BenchClassifyAsync("--warmup-requests", "2", "--requests", "3");
        using var _ = summary;
        Assert.That(run.Error, Does.Contain("Warming up 2 calls").And.Contain("Measuring 3 calls"));
        var root = summary.RootElement;
        Assert.That(root.GetProperty("count").GetInt64(), Is.EqualTo(3));
        Assert.That(root.GetProperty("statusCodeDistribution").GetProperty("OK").GetInt64(), Is.EqualTo(3));
        Assert.That(root.GetProperty("endReason").GetString(), Is.EqualTo("normal"));
        Assert.That(root.GetProperty("options").GetProperty("duration").GetInt64(), Is.EqualTo(0));
        Assert.That(root.GetProperty("histogram").EnumerateArray().Sum(b => b.GetProperty("count").GetInt64()), Is.EqualTo(3));
    }

    /// <summary>A Classify bench at concurrency 2 with <paramref name="load"/>; it must succeed and write its JSON summary.</summary>
    private static async Task<(CliRun Run, JsonDocument Summary)> BenchClassifyAsync(params string[] load)
    {
        using var temp = new TempFolder();
        string[] common = ["bench", "--server", LiveServer.Url, "--image", TestPaths.GoldenImages[0], "--rpc", "classify",
            "--concurrency", "2", "--json", temp.File("bench.json")];
        var run = await CliRun.RunAsync([.. common, .. load]);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        return (run, JsonDocument.Parse(File.ReadAllText(temp.File("bench.json"))));
    }
}
