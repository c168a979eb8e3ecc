using Grpc.Core;

namespace Dermxai.Client.Connection;

/// <summary>
/// Retries a unary call that ended UNAVAILABLE (server down or restarting, no model loaded yet),
/// with exponential backoff and jitter; every other status is final. Done here rather than by
/// Grpc.Net.Client's retry policy because that one gives up once the server has sent response
/// headers, and the Dermxai server sends its x-request-id header before it answers. All Dermxai
/// RPCs only read, so repeating one is safe. Every attempt shares the call's one deadline.
/// </summary>
internal sealed class UnavailableRetry(int retries, TimeSpan initialBackoff, TimeSpan maxBackoff)
{
    public static readonly TimeSpan DefaultInitialBackoff = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan DefaultMaxBackoff = TimeSpan.FromSeconds(5);

    public int Retries => retries;

    public async Task<T> CallAsync<T>(Func<CallOptions, AsyncUnaryCall<T>> call, CallOptions options)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var pending = call(options);
                return await pending.ResponseAsync;
            }
            catch (RpcException error) when (error.StatusCode == StatusCode.Unavailable && attempt < retries)
            {
                var delay = Backoff(attempt);
                if (options.Deadline is { } deadline && DateTime.UtcNow + delay >= deadline) throw;
                await Task.Delay(delay, options.CancellationToken);
            }
        }
    }

    /// <summary>Attempt n waits between half and all of min(initial · 2ⁿ, max).</summary>
    public TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(initialBackoff.TotalMilliseconds * Math.Pow(2, attempt), maxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + 0.5 * Random.Shared.NextDouble()));
    }
}
