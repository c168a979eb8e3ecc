using Dermxai.Client.Cli;
using Dermxai.TestSupport;

namespace Dermxai.Client.Tests;

/// <summary>One in-process run of the `dermxai` command app, with what it printed.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    public static async Task<CliRun> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await DermxaiCli.RunAsync(args, new CliConsoles(PlainConsole.Over(output), PlainConsole.Over(error)), CancellationToken.None);
        var run = new CliRun(exitCode, output.ToString(), error.ToString());
        TestContext.Out.WriteLine($"dermxai {string.Join(' ', args)} -> {exitCode}\n--- stdout\n{run.Out}--- stderr\n{run.Error}");
        return run;
    }

    public IReadOnlyList<string> ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
