using System.Diagnostics;
using System.Threading.Channels;

namespace Dermxai.Engine;

/// <summary>A row's result and how long it waited and ran.</summary>
internal readonly record struct Batched<T>(T Value, double QueueMs, double InferenceMs);

/// <summary>
/// Groups rows from concurrent requests into batches: one worker takes up to maxBatch rows, waiting at
/// most maxDelay after the first; new rows are refused at once while maxQueue rows wait; rows whose
/// caller gave up are dropped before the run, and a run whose callers have all given up is told to stop
/// through the token passed to the batch function. An item may weigh several rows (one image with its
/// R target rows): it is never split, and an item heavier than maxBatch runs alone.
/// </summary>
internal sealed class DynamicBatcher<TRow, TResult> : IAsyncDisposable
{
    private sealed record Item(TRow Row, TaskCompletionSource<Batched<TResult>> Done, CancellationToken Cancel, long EnqueuedAt);

    private readonly Channel<Item> _channel = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<IReadOnlyList<TRow>, CancellationToken, TResult[]> _runBatch;
    private readonly Func<TRow, int> _weight;
    private readonly Action<int, double, int>? _onBatch;
    private readonly int _maxBatch, _maxQueue;
    private readonly TimeSpan _maxDelay;
    private readonly Task _worker;
    private int _queued;

    internal DynamicBatcher(Func<IReadOnlyList<TRow>, CancellationToken, TResult[]> runBatch, int maxBatch, TimeSpan maxDelay, int maxQueue,
        Action<int, double, int>? onBatch = null, Func<TRow, int>? weight = null)
    {
        _runBatch = runBatch;
        _weight = weight ?? (_ => 1);
        _maxBatch = Math.Max(1, maxBatch);
        _maxDelay = maxDelay;
        _maxQueue = Math.Max(1, maxQueue);
        _onBatch = onBatch;
        _worker = Task.Factory.StartNew(Work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Rows waiting now.</summary>
    internal int QueueDepth => Volatile.Read(ref _queued);

    /// <summary>Queues all rows of one request at once (all or none) and waits for their results.</summary>
    internal async Task<Batched<TResult>[]> RunAsync(IReadOnlyList<TRow> rows, CancellationToken cancel)
    {
        cancel.ThrowIfCancellationRequested();
        int weight = rows.Sum(_weight);
        if (Interlocked.Add(ref _queued, weight) > _maxQueue)
        {
            Interlocked.Add(ref _queued, -weight);
            throw QueueFull();
        }
        var tasks = new Task<Batched<TResult>>[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            var done = new TaskCompletionSource<Batched<TResult>>(TaskCreationOptions.RunContinuationsAsynchronously);
            tasks[i] = done.Task;
            if (!_channel.Writer.TryWrite(new Item(rows[i], done, cancel, Stopwatch.GetTimestamp())))
            {
                Interlocked.Add(ref _queued, -_weight(rows[i]));
                done.TrySetException(new EngineException(EngineErrorKind.Unavailable, ErrorReasons.ShuttingDown, null, "The engine is shutting down."));
            }
        }
        return await Task.WhenAll(tasks).WaitAsync(cancel).ConfigureAwait(false);
    }

    /// <summary>
    /// Refuses a request up front, before its image is decoded, when its rows could not be queued now:
    /// an overloaded server should spend nothing on work it will refuse anyway.
    /// </summary>
    internal void ThrowIfFull(int rows)
    {
        if (QueueDepth + rows > _maxQueue) throw QueueFull();
    }

    private EngineException QueueFull() =>
        new(EngineErrorKind.QueueFull, ErrorReasons.QueueFull, null, $"The server's queue is full ({_maxQueue} waiting); retry later.");

    /// <summary>
    /// The worker owns its thread for good and blocks there, waits included: a batch runs for seconds,
    /// and on a thread-pool thread it would hold back the pool (on a 2-core host two batchers are the whole
    /// pool), and with it the deadline timers and cancellations that are meant to stop that batch.
    /// </summary>
    private void Work()
    {
        var reader = _channel.Reader;
        var batch = new List<Item>(_maxBatch);
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            Fill(reader, batch);
            Interlocked.Add(ref _queued, -batch.Sum(item => _weight(item.Row)));
            batch.RemoveAll(item => item.Cancel.IsCancellationRequested || item.Done.Task.IsCompleted);
            if (batch.Count > 0) Run(batch);
        }
    }

    private void Fill(ChannelReader<Item> reader, List<Item> batch)
    {
        if (!reader.TryRead(out var first)) return;
        batch.Add(first);
        int rows = _weight(first.Row);
        long deadline = Stopwatch.GetTimestamp() + (long)(_maxDelay.TotalSeconds * Stopwatch.Frequency);
        while (rows < _maxBatch)
        {
            if (reader.TryPeek(out var next))
            {
                int weight = _weight(next.Row);
                if (rows + weight > _maxBatch) break;
                reader.TryRead(out _);
                batch.Add(next);
                rows += weight;
                continue;
            }
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (remaining <= TimeSpan.Zero) break;
            using var timeout = new CancellationTokenSource(remaining);
            try
            {
                if (!reader.WaitToReadAsync(timeout.Token).AsTask().GetAwaiter().GetResult()) break;
            }
            catch (OperationCanceledException) { break; }
        }
    }

    private void Run(List<Item> batch)
    {
        long start = Stopwatch.GetTimestamp();
        var rows = new TRow[batch.Count];
        for (int i = 0; i < rows.Length; i++) rows[i] = batch[i].Row;
        using var abandoned = new CancellationTokenSource();
        int waiting = batch.Count;
        var registrations = new CancellationTokenRegistration[batch.Count];
        for (int i = 0; i < batch.Count; i++)
            registrations[i] = batch[i].Cancel.Register(() => { if (Interlocked.Decrement(ref waiting) == 0) abandoned.Cancel(); });
        try
        {
            var results = _runBatch(rows, abandoned.Token);
            double inferenceMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            _onBatch?.Invoke(rows.Sum(_weight), inferenceMs, QueueDepth);
            for (int i = 0; i < batch.Count; i++)
            {
                double queueMs = Stopwatch.GetElapsedTime(batch[i].EnqueuedAt, start).TotalMilliseconds;
                batch[i].Done.TrySetResult(new Batched<TResult>(results[i], queueMs, inferenceMs));
            }
        }
        catch (Exception e)
        {
            foreach (var item in batch) item.Done.TrySetException(e);
        }
        finally
        {
            foreach (var registration in registrations) registration.Dispose();
        }
    }

    /// <summary>Stops taking rows and finishes those already queued.</summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }
}
