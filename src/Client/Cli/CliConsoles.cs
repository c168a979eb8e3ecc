using Spectre.Console;

namespace Dermxai.Client.Cli;

/// <summary>Where a command writes: results to <see cref="Out"/>, failures and diagnostics to <see cref="Error"/>.</summary>
internal sealed record CliConsoles(IAnsiConsole Out, IAnsiConsole Error)
{
    // Redirected output has no terminal width; Spectre would assume 80 columns and wrap tables in logs.
    private const int RedirectedWidth = 160;

    public static CliConsoles FromProcess()
    {
        var output = AnsiConsole.Console;
        var error = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (Console.IsOutputRedirected) output.Profile.Width = RedirectedWidth;
        if (Console.IsErrorRedirected) error.Profile.Width = RedirectedWidth;
        return new CliConsoles(output, error);
    }

    /// <summary>Where human-readable results go: standard error when standard output carries JSON ("--json=-").</summary>
    public IAnsiConsole Human(string? jsonDestination) => jsonDestination == JsonOutput.StandardOutput ? Error : Out;
}

internal static class ConsoleLines
{
    /// <summary>Writes one line as is: no markup, no wrapping at the console width (for lines scripts grep).</summary>
    public static void Line(this IAnsiConsole console, string text) => console.Profile.Out.Writer.WriteLine(text);
}
