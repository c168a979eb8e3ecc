using System.Diagnostics;
using Grpc.Core;

namespace Dermxai.Client.Bench;

/// <summary>One finished call: how long it took and how it ended.</summary>
internal readonly record struct CallSample(long LatencyTicks, StatusCode Status, string? Error)
{
    public TimeSpan Latency => Stopwatch.GetElapsedTime(0, LatencyTicks);
}

/// <summary>Thread-safe collection of the calls of one run, and the run's wall time.</summary>
internal sealed class CallSamples
{
    private readonly List<CallSample> _samples = new(capacity: 4096);
    private readonly Lock _lock = new();

    public TimeSpan Elapsed { get; set; }

    public void Add(CallSample sample)
    {
        lock (_lock) _samples.Add(sample);
    }

    public IReadOnlyList<CallSample> Snapshot()
    {
        lock (_lock) return _samples.ToArray();
    }
}
