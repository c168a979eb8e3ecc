namespace Dermxai.Client.Bench;

/// <summary>
/// A bench's two phases as its settings say: the warm-up (a time or a call count; its calls are
/// dropped) and the measured run (a time or, closed loop, a call count), whose calls are returned.
/// </summary>
internal static class BenchPhases
{
    public static async Task<CallSamples> RunAsync(LoadRunner runner, BenchSettings settings, Action<string> progress, CancellationToken cancellation)
    {
        var load = $"{settings.CallName}, {LoadShape(settings)}";
        if (settings.CountsWarmupRequests)
        {
            var warmup = settings.WarmupRequests!.Value;
            if (warmup > 0)
            {
                progress($"Warming up {Calls(warmup)}: {load}");
                await runner.RunCountedClosedLoopAsync(settings.Concurrency, warmup, cancellation);
            }
        }
        else if (settings.WarmupDuration > TimeSpan.Zero)
        {
            progress($"Warming up {Seconds(settings.WarmupDuration)}: {load}");
            await RunForAsync(runner, settings, settings.WarmupDuration, cancellation);
        }

        if (settings.CountsRequests)
        {
            progress($"Measuring {Calls(settings.Requests!.Value)}: {load}");
            return await runner.RunCountedClosedLoopAsync(settings.Concurrency, settings.Requests.Value, cancellation);
        }
        progress($"Measuring {Seconds(settings.MeasuredDuration)}: {load}");
        return await RunForAsync(runner, settings, settings.MeasuredDuration, cancellation);
    }

    public static string LoadShape(BenchSettings settings) => settings.OpenLoop
        ? $"open loop at {settings.Rps.ToString(System.Globalization.CultureInfo.InvariantCulture)} rps"
        : $"concurrency {settings.Concurrency}";

    private static Task<CallSamples> RunForAsync(LoadRunner runner, BenchSettings settings, TimeSpan duration, CancellationToken cancellation) =>
        settings.OpenLoop
            ? runner.RunOpenLoopAsync(settings.Rps, settings.MaxInFlight, duration, cancellation)
            : runner.RunClosedLoopAsync(settings.Concurrency, duration, cancellation);

    private static string Calls(long count) => count == 1 ? "1 call" : $"{count} calls";

    private static string Seconds(TimeSpan duration) => $"{duration.TotalSeconds:0.#} s";
}
