using Spectre.Console;

namespace Dermxai.TestSupport;

/// <summary>A console over a text writer for in-process command runs: no ANSI, no colours, no progress bars, 200 columns.</summary>
public static class PlainConsole
{
    public static IAnsiConsole Over(TextWriter writer)
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
