using Dermxai.Client.Bench;
using Grpc.Core;

namespace Dermxai.Client.Tests.Unit;

public sealed class LoadRunnerTests
{
    [Test]
    public async Task The_open_loop_starts_rate_times_duration_calls()
    {
        var calls = 0;
        var runner = new LoadRunner(_ => { Interlocked.Increment(ref calls); return Task.CompletedTask; });

        var run = await runner.RunOpenLoopAsync(callsPerSecond: 200, maxInFlight: 8, TimeSpan.FromMilliseconds(100), CancellationToken.None);

        Assert.That(calls, Is.EqualTo(20));
        Assert.That(run.Snapshot(), Has.Count.EqualTo(20));
    }

    [Test]
    public async Task Failed_calls_are_recorded_with_their_status_and_the_loop_goes_on()
    {
        var calls = 0;
        var runner = new LoadRunner(_ =>
            Interlocked.Increment(ref calls) % 2 == 0
                ? Task.FromException(new RpcException(new Status(StatusCode.ResourceExhausted, "queue full")))
                : Task.CompletedTask);

        var run = await runner.RunOpenLoopAsync(callsPerSecond: 100, maxInFlight: 4, TimeSpan.FromMilliseconds(100), CancellationToken.None);

        var samples = run.Snapshot();
        Assert.That(samples, Has.Count.EqualTo(10));
        Assert.That(samples.Count(s => s.Status == StatusCode.ResourceExhausted && s.Error == "queue full"), Is.EqualTo(5));
    }

    [TestCase(1, 7)]
    [TestCase(4, 7)]
    [TestCase(8, 3)]
    public async Task A_counted_closed_loop_makes_and_records_exactly_that_many_calls(int concurrency, long requests)
    {
        var calls = 0;
        var runner = new LoadRunner(async _ => { Interlocked.Increment(ref calls); await Task.Yield(); });

        var run = await runner.RunCountedClosedLoopAsync(concurrency, requests, CancellationToken.None);

        Assert.That(calls, Is.EqualTo(requests));
        Assert.That(run.Snapshot(), Has.Count.EqualTo(requests));
    }
}
