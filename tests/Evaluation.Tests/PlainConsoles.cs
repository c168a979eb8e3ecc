using Dermxai.Evaluation.Cli;
using Spectre.Console;

namespace Dermxai.Evaluation.Tests;

/// <summary>The tool's consoles over text writers: no colours, no progress bars, wide enough for the tables.</summary>
internal static class PlainConsoles
{
    public static EvaluateConsoles Over(TextWriter output, TextWriter error) => new(Plain(output), Plain(error));

    private static IAnsiConsole Plain(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 200;
        return console;
    }
}
