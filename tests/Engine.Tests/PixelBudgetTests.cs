using Dermxai.Engine;

namespace Dermxai.Tests;

/// <summary>The engine's bound on photo pixels held at once: waiting in order, leaving on cancel, oversize photos alone.</summary>
[TestFixture]
public sealed class PixelBudgetTests
{
    [Test]
    public async Task Calls_beyond_the_budget_wait_until_pixels_are_returned()
    {
        var budget = new PixelBudget(100);
        var first = await budget.ReserveAsync(60, CancellationToken.None);
        var second = budget.ReserveAsync(60, CancellationToken.None).AsTask();
        var third = budget.ReserveAsync(10, CancellationToken.None).AsTask();
        Assert.That(second.IsCompleted || third.IsCompleted, Is.False, "the line is first come, first served");
        first.Dispose();
        first.Dispose();
        using var s = await second.WaitAsync(TimeSpan.FromSeconds(10));
        using var t = await third.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(budget.Held, Is.EqualTo(70));
    }

    [Test]
    public async Task A_cancelled_caller_leaves_the_line_and_frees_its_place()
    {
        var budget = new PixelBudget(100);
        var held = await budget.ReserveAsync(100, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var leaving = budget.ReserveAsync(50, cancel.Token).AsTask();
        var staying = budget.ReserveAsync(50, CancellationToken.None).AsTask();
        cancel.Cancel();
        Assert.CatchAsync<OperationCanceledException>(() => leaving);
        held.Dispose();
        using var s = await staying.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(budget.Held, Is.EqualTo(50));
    }

    [Test]
    public async Task A_photo_larger_than_the_budget_runs_alone()
    {
        var budget = new PixelBudget(100);
        using (await budget.ReserveAsync(1_000, CancellationToken.None))
            Assert.That(budget.Held, Is.EqualTo(100));
        Assert.That(budget.Held, Is.Zero);
    }
}
