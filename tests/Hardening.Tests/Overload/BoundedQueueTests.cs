using Dermxai.Engine;
using Dermxai.Hardening.Tests.Fuzz;
using Dermxai.Hardening.Tests.Support;
using Dermxai.Protocol.V1;
using Dermxai.Server;
using Google.Protobuf;
using Grpc.Core;

namespace Dermxai.Hardening.Tests.Overload;

/// <summary>
/// The bounded queue, observed with the batch worker held still: the engine calls OnBatch from its
/// worker after each batch, so blocking there freezes the queue in a known state. No timing is
/// asserted: "at once" means the refusal is complete while the worker is still blocked.
/// </summary>
[TestFixture]
public sealed class BoundedQueueTests
{
    private const int QueueSize = 3;
    private readonly ManualResetEventSlim _release = new(false);
    private readonly TaskCompletionSource _firstBatchRunning = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _rowsRun;
    private DermxaiEngine _engine = null!;

    [OneTimeSetUp]
    public void Load()
    {
        var settings = new ServerOptions { Device = "cpu", MaxBatchSize = 1, MaxQueueSize = QueueSize, MaxQueueDelayMs = 0 };
        _engine = DermxaiEngine.Load(settings.ToEngineOptions(TestServer.SmallModel, OnBatch));
    }

    [OneTimeTearDown]
    public async Task UnloadAsync()
    {
        _release.Set();
        await _engine.DisposeAsync();
        _release.Dispose();
    }

    private void OnBatch(BatchReport batch)
    {
        Interlocked.Add(ref _rowsRun, batch.Rows);
        _firstBatchRunning.TrySetResult();
        _release.Wait();
    }

    private static ImageSource Photo() => ImageSource.FromEncoded(SeedImages.Accepted[0].Bytes);

    [Test]
    public async Task A_full_queue_refuses_at_once_and_cancelled_work_never_runs()
    {
        var running = _engine.ClassifyAsync(Photo());
        await _firstBatchRunning.Task; // the worker holds this batch and takes nothing else

        using var deadline = new CancellationTokenSource();
        var queued = Enumerable.Range(0, QueueSize - 1).Select(_ => _engine.ClassifyAsync(Photo())).ToList();
        var expiring = _engine.ClassifyAsync(Photo(), cancel: deadline.Token);
        var refused = _engine.ClassifyAsync(Photo());

        Assert.That(refused.IsFaulted, Is.True, "the call beyond the queue's capacity failed before any queued work ran");
        var error = Assert.ThrowsAsync<EngineException>(() => refused)!;
        Assert.That(error.Kind, Is.EqualTo(EngineErrorKind.QueueFull));

        deadline.Cancel();
        Assert.That(expiring.IsCanceled, Is.True, "a caller whose deadline passed is released while its row still waits");
        Assert.That(running.IsCompleted || queued.Any(t => t.IsCompleted), Is.False, "nothing ran meanwhile");

        _release.Set();
        await running;
        await Task.WhenAll(queued);
        Assert.That(Volatile.Read(ref _rowsRun), Is.EqualTo(QueueSize), "the cancelled row was dropped before running");
        Assert.That(await _engine.ClassifyAsync(Photo()), Is.Not.Null, "the queue accepts work again once drained");
    }
}

/// <summary>The same limits seen over gRPC: statuses, not exceptions.</summary>
[TestFixture]
public sealed class OverloadStatusTests
{
    private static ByteString Photo => ByteString.CopyFrom(SeedImages.Accepted[0].Bytes);

    private const int QueueSize = 2;
    private TestServer _server = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _server = await TestServer.StartAsync(["--max-queue-size", $"{QueueSize}", "--max-batch-size", "1"]);

    [OneTimeTearDown]
    public async Task StopAsync() => await _server.DisposeAsync();

    [Test]
    public async Task A_request_larger_than_the_queue_is_resource_exhausted()
    {
        using var channel = _server.Channel();
        var client = new Protocol.V1.DermxaiService.DermxaiServiceClient(channel);
        // One row per class explained: three rows can never fit a queue of two.
        var request = new ExplainRequest { Image = new ImageInput { Encoded = Photo }, Targets = { new TargetSpec { TopClasses = QueueSize + 1 } } };
        var error = Assert.ThrowsAsync<RpcException>(async () => await client.ExplainAsync(request))!;
        Assert.That(error.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(error.Status.Detail, Does.Contain("queue is full"));
    }

    [Test]
    public async Task Under_a_burst_every_call_is_answered_or_refused_as_queue_full()
    {
        using var channel = _server.Channel();
        var client = new Protocol.V1.DermxaiService.DermxaiServiceClient(channel);
        var request = new ExplainRequest { Image = new ImageInput { Encoded = Photo }, Methods = { "transformer_attribution", "generic_attention" } };
        var statuses = await Task.WhenAll(Enumerable.Range(0, 48).Select(_ =>
            Clients.StatusOfAsync(async () => await client.ExplainAsync(request, deadline: DateTime.UtcNow.AddSeconds(60)))));
        TestContext.Out.WriteLine(string.Join(", ", statuses.GroupBy(s => s).Select(g => $"{g.Key} {g.Count()}")));
        Assert.That(statuses, Is.All.AnyOf(StatusCode.OK, StatusCode.ResourceExhausted));
        Assert.That(statuses, Does.Contain(StatusCode.OK));
    }

    [Test]
    public async Task A_call_past_its_deadline_is_deadline_exceeded_and_the_server_goes_on()
    {
        using var channel = (await SharedServer.GetAsync()).Channel();
        var client = new Protocol.V1.DermxaiService.DermxaiServiceClient(channel);
        var heavy = new ExplainRequest
        {
            Image = new ImageInput { Encoded = ByteString.CopyFrom(Mutations.ZeroPng(4_000, 4_000, storedRows: 4_000, colorType: 2)) },
            Outputs = new OutputOptions { IncludeOverlayPng = true, IncludeHeatmapPng = true },
        };
        var status = await Clients.StatusOfAsync(async () => await client.ExplainAsync(heavy, deadline: DateTime.UtcNow.AddMilliseconds(200)));
        Assert.That(status, Is.EqualTo(StatusCode.DeadlineExceeded));
        Assert.That(await Clients.StatusOfAsync(async () => await client.ClassifyAsync(new ClassifyRequest { Image = new ImageInput { Encoded = Photo } })),
            Is.EqualTo(StatusCode.OK));
    }
}
