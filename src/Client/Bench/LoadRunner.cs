using System.Diagnostics;
using Grpc.Core;

namespace Dermxai.Client.Bench;

/// <summary>
/// Drives one RPC in a closed loop (N callers back to back) or an open loop (a fixed start rate),
/// for a fixed time or, closed loop, a fixed number of calls, recording every call. Calls still in
/// flight when the time is up are awaited and counted; the run's wall time runs until the last one returns.
/// </summary>
internal sealed class LoadRunner(Func<CancellationToken, Task> call)
{
    // Calls due within a timer tick start at once instead of sleeping (Task.Delay is ms-grained).
    private static readonly TimeSpan TimerResolution = TimeSpan.FromMilliseconds(1);

    public async Task<CallSamples> RunClosedLoopAsync(int concurrency, TimeSpan duration, CancellationToken cancellation)
    {
        var samples = new CallSamples();
        var start = Stopwatch.GetTimestamp();
        var callers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetElapsedTime(start) < duration && !cancellation.IsCancellationRequested)
                samples.Add(await TimeOneCallAsync(cancellation));
        }, cancellation));
        await Task.WhenAll(callers);
        samples.Elapsed = Stopwatch.GetElapsedTime(start);
        return samples;
    }

    /// <summary>Closed loop until exactly <paramref name="calls"/> calls have been made, shared by the callers.</summary>
    public async Task<CallSamples> RunCountedClosedLoopAsync(int concurrency, long calls, CancellationToken cancellation)
    {
        var samples = new CallSamples();
        long claimed = 0;
        var start = Stopwatch.GetTimestamp();
        var callers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (!cancellation.IsCancellationRequested && Interlocked.Increment(ref claimed) <= calls)
                samples.Add(await TimeOneCallAsync(cancellation));
        }, cancellation));
        await Task.WhenAll(callers);
        samples.Elapsed = Stopwatch.GetElapsedTime(start);
        return samples;
    }

    public async Task<CallSamples> RunOpenLoopAsync(double callsPerSecond, int maxInFlight, TimeSpan duration, CancellationToken cancellation)
    {
        var samples = new CallSamples();
        var inFlight = new SemaphoreSlim(maxInFlight, maxInFlight);
        var running = new List<Task>();
        var start = Stopwatch.GetTimestamp();
        for (long started = 0; !cancellation.IsCancellationRequested; started++)
        {
            var due = TimeSpan.FromSeconds(started / callsPerSecond);
            if (due >= duration) break;
            var wait = due - Stopwatch.GetElapsedTime(start);
            if (wait > TimerResolution) await Task.Delay(wait, cancellation);
            await inFlight.WaitAsync(cancellation);
            running.Add(Task.Run(async () =>
            {
                try { samples.Add(await TimeOneCallAsync(cancellation)); }
                finally { inFlight.Release(); }
            }, cancellation));
        }
        await Task.WhenAll(running);
        samples.Elapsed = Stopwatch.GetElapsedTime(start);
        return samples;
    }

    private async Task<CallSample> TimeOneCallAsync(CancellationToken cancellation)
    {
        var begin = Stopwatch.GetTimestamp();
        try
        {
            await call(cancellation);
            return new CallSample(Stopwatch.GetTimestamp() - begin, StatusCode.OK, null);
        }
        catch (RpcException error)
        {
            return new CallSample(Stopwatch.GetTimestamp() - begin, error.StatusCode, error.Status.Detail);
        }
    }
}
