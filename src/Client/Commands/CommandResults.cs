using Dermxai.Client.Cli;
using Dermxai.Client.Inputs;
using Spectre.Console;

namespace Dermxai.Client.Commands;

/// <summary>Exit codes and the shared lines for inputs that matched nothing.</summary>
internal static class CommandResults
{
    public const int Success = 0;
    /// <summary>Some inputs failed (the others were done), or the server is not serving.</summary>
    public const int SomeFailed = 1;
    /// <summary>The command could not run at all: bad arguments, server unreachable, server error.</summary>
    public const int Failed = 2;

    public static int ReportMissing(IAnsiConsole errors, InputPaths.Expansion inputs)
    {
        foreach (var (path, reason) in inputs.Missing) errors.Line($"FAILED {path}: {reason}");
        return inputs.Missing.Count;
    }

    public static int NothingToDo(IAnsiConsole errors, InputPaths.Expansion inputs)
    {
        ReportMissing(errors, inputs);
        errors.Line("No image files to process.");
        return Failed;
    }
}
