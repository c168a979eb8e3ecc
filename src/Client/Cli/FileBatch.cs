using Dermxai.Client.Connection;
using Spectre.Console;

namespace Dermxai.Client.Cli;

/// <summary>The result of one input file: a value, or the one-line reason it failed.</summary>
internal sealed record FileOutcome<T>(string Path, T? Result, string? Error) where T : class
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// Runs one piece of work per file, a few at a time, with a progress bar when there are many files
/// and the console is interactive. A failing file never stops the others.
/// </summary>
internal static class FileBatch
{
    public const int ProgressBarFromFiles = 5;

    public static async Task<IReadOnlyList<FileOutcome<T>>> RunAsync<T>(
        IAnsiConsole console, string verb, IReadOnlyList<string> files, int parallelism,
        Func<string, CancellationToken, Task<T>> work, CancellationToken cancellation) where T : class
    {
        var outcomes = new FileOutcome<T>[files.Count];
        if (files.Count >= ProgressBarFromFiles && console.Profile.Capabilities.Interactive)
        {
            await console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var bar = context.AddTask($"{verb} {files.Count} images", maxValue: files.Count);
                    await RunAllAsync(files, parallelism, work, outcomes, () => bar.Increment(1), cancellation);
                });
        }
        else
        {
            await RunAllAsync(files, parallelism, work, outcomes, () => { }, cancellation);
        }
        return outcomes;
    }

    /// <summary>One line per failed file on the error console: "FAILED path: STATUS: reason".</summary>
    public static int ReportFailures<T>(IAnsiConsole errors, IEnumerable<FileOutcome<T>> outcomes) where T : class
    {
        var failed = 0;
        foreach (var outcome in outcomes.Where(o => !o.Succeeded))
        {
            errors.Line($"FAILED {outcome.Path}: {outcome.Error}");
            failed++;
        }
        return failed;
    }

    private static Task RunAllAsync<T>(
        IReadOnlyList<string> files, int parallelism, Func<string, CancellationToken, Task<T>> work,
        FileOutcome<T>[] outcomes, Action onFileDone, CancellationToken cancellation) where T : class =>
        Parallel.ForEachAsync(
            Enumerable.Range(0, files.Count),
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellation },
            async (index, token) =>
            {
                outcomes[index] = await RunOneAsync(files[index], work, token);
                onFileDone();
            });

    private static async Task<FileOutcome<T>> RunOneAsync<T>(
        string file, Func<string, CancellationToken, Task<T>> work, CancellationToken cancellation) where T : class
    {
        try
        {
            return new FileOutcome<T>(file, await work(file, cancellation), null);
        }
        catch (Exception error) when (!cancellation.IsCancellationRequested)
        {
            return new FileOutcome<T>(file, null, RpcErrors.Describe(error));
        }
    }
}
