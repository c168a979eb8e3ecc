using Dermxai.Client.Connection;
using Grpc.Core;

namespace Dermxai.Client.Tests.Unit;

public sealed class UnavailableRetryTests
{
    private static readonly UnavailableRetry ThreeQuickRetries = new(3, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(4));

    /// <summary>A call that fails with the given statuses in turn, then answers "done".</summary>
    private sealed class ScriptedCall(params StatusCode[] failures)
    {
        public int Attempts { get; private set; }

        public AsyncUnaryCall<string> Invoke(CallOptions options)
        {
            var attempt = Attempts++;
            var response = attempt < failures.Length
                ? Task.FromException<string>(new RpcException(new Status(failures[attempt], "scripted")))
                : Task.FromResult("done");
            return new AsyncUnaryCall<string>(response, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
        }
    }

    [Test]
    public async Task Unavailable_is_retried_until_the_call_succeeds()
    {
        var call = new ScriptedCall(StatusCode.Unavailable, StatusCode.Unavailable);
        Assert.That(await ThreeQuickRetries.CallAsync(call.Invoke, new CallOptions()), Is.EqualTo("done"));
        Assert.That(call.Attempts, Is.EqualTo(3));
    }

    [TestCase(StatusCode.InvalidArgument)]
    [TestCase(StatusCode.ResourceExhausted)]
    [TestCase(StatusCode.DeadlineExceeded)]
    [TestCase(StatusCode.Unauthenticated)]
    public void Other_statuses_are_never_retried(StatusCode status)
    {
        var call = new ScriptedCall(status);
        var error = Assert.ThrowsAsync<RpcException>(() => ThreeQuickRetries.CallAsync(call.Invoke, new CallOptions()));
        Assert.That((error!.StatusCode, call.Attempts), Is.EqualTo((status, 1)));
    }

    [Test]
    public void After_the_last_retry_the_unavailable_status_is_reported()
    {
        var call = new ScriptedCall(Enumerable.Repeat(StatusCode.Unavailable, 10).ToArray());
        var error = Assert.ThrowsAsync<RpcException>(() => ThreeQuickRetries.CallAsync(call.Invoke, new CallOptions()));
        Assert.That((error!.StatusCode, call.Attempts), Is.EqualTo((StatusCode.Unavailable, 4)));
    }

    [Test]
    public void No_retry_is_started_that_would_end_after_the_deadline()
    {
        var slow = new UnavailableRetry(3, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        var call = new ScriptedCall(StatusCode.Unavailable);
        Assert.ThrowsAsync<RpcException>(() => slow.CallAsync(call.Invoke, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(5))));
        Assert.That(call.Attempts, Is.EqualTo(1));
    }

    [Test]
    public void Backoff_doubles_within_jitter_and_is_capped()
    {
        var retry = new UnavailableRetry(10, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(1000));
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var ceiling = Math.Min(100 * Math.Pow(2, attempt), 1000);
            for (var draw = 0; draw < 20; draw++)
                Assert.That(retry.Backoff(attempt).TotalMilliseconds, Is.InRange(ceiling / 2, ceiling));
        }
    }
}
