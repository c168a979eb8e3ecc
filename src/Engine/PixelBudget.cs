namespace Dermxai.Engine;

/// <summary>
/// Bounds the photo pixels held at once by all calls together (decode buffers, the viewed photo, the
/// overlays drawn at its size): a call reserves its header's pixel count before decoding and returns it
/// when it ends. Calls that do not fit wait in arrival order, and a cancelled caller leaves the line at
/// once. A photo larger than the whole budget runs alone. Memory then grows with the budget, not with
/// the number of concurrent calls.
/// </summary>
internal sealed class PixelBudget(long capacity)
{
    private sealed record Waiter(long Pixels, TaskCompletionSource Ready);

    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _line = new();
    private long _held;

    internal long Capacity { get; } = Math.Max(1, capacity);

    /// <summary>Pixels reserved now.</summary>
    internal long Held { get { lock (_lock) return _held; } }

    internal async ValueTask<Reservation> ReserveAsync(long pixels, CancellationToken cancel)
    {
        long want = Math.Clamp(pixels, 1, Capacity);
        LinkedListNode<Waiter> node;
        lock (_lock)
        {
            if (_line.Count == 0 && _held + want <= Capacity)
            {
                _held += want;
                return new Reservation(this, want);
            }
            node = _line.AddLast(new Waiter(want, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }
        try
        {
            await node.Value.Ready.Task.WaitAsync(cancel).ConfigureAwait(false);
            return new Reservation(this, want);
        }
        catch (OperationCanceledException)
        {
            bool granted;
            lock (_lock)
            {
                granted = node.List is null;
                if (!granted) _line.Remove(node);
            }
            if (granted) Release(want);
            else Grant();
            throw;
        }
    }

    private void Release(long pixels)
    {
        lock (_lock) _held -= pixels;
        Grant();
    }

    /// <summary>Admits waiters from the front of the line while they fit.</summary>
    private void Grant()
    {
        var ready = new List<TaskCompletionSource>();
        lock (_lock)
        {
            while (_line.First is { } first && _held + first.Value.Pixels <= Capacity)
            {
                _held += first.Value.Pixels;
                _line.RemoveFirst();
                ready.Add(first.Value.Ready);
            }
        }
        foreach (var r in ready) r.TrySetResult();
    }

    /// <summary>Returns its pixels when disposed (once).</summary>
    internal sealed class Reservation(PixelBudget owner, long pixels) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) owner.Release(pixels);
        }
    }
}
