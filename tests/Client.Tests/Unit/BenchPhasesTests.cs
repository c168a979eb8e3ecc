using Dermxai.Client.Bench;

namespace Dermxai.Client.Tests.Unit;

public sealed class BenchPhasesTests
{
    [TestCase(1)]
    [TestCase(3)]
    public async Task Warmup_requests_are_made_but_only_the_measured_requests_are_counted(int concurrency)
    {
        var calls = 0;
        var runner = new LoadRunner(async _ => { Interlocked.Increment(ref calls); await Task.Yield(); });
        var settings = new BenchSettings { Concurrency = concurrency, WarmupRequests = 2, Requests = 5 };
        var progress = new List<string>();

        var run = await BenchPhases.RunAsync(runner, settings, progress.Add, CancellationToken.None);

        Assert.That(calls, Is.EqualTo(7));
        Assert.That(run.Snapshot(), Has.Count.EqualTo(5));
        Assert.That(progress, Has.Exactly(1).StartsWith("Warming up 2 calls:").And.Exactly(1).StartsWith("Measuring 5 calls:"));
    }

    [Test]
    public async Task Zero_warmup_requests_warm_up_with_no_call_and_no_time()
    {
        var calls = 0;
        var runner = new LoadRunner(_ => { Interlocked.Increment(ref calls); return Task.CompletedTask; });
        var settings = new BenchSettings { WarmupRequests = 0, Requests = 1 };
        var progress = new List<string>();

        var run = await BenchPhases.RunAsync(runner, settings, progress.Add, CancellationToken.None);

        Assert.That((calls, run.Snapshot().Count), Is.EqualTo((1, 1)));
        Assert.That(progress, Has.None.StartsWith("Warming up"));
        Assert.That(settings.WarmupDuration, Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public void Counted_runs_have_no_measured_time_and_timed_runs_keep_their_defaults()
    {
        Assert.That(new BenchSettings { Requests = 3 }.MeasuredDuration, Is.EqualTo(TimeSpan.Zero));
        Assert.That(new BenchSettings().MeasuredDuration, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(new BenchSettings().WarmupDuration, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(new BenchSettings { Duration = "500ms", Warmup = "0" }.MeasuredDuration, Is.EqualTo(TimeSpan.FromMilliseconds(500)));
    }
}
