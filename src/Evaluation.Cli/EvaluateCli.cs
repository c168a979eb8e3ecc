using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Evaluation.Cli;

/// <summary>Exit codes of `dermxai-evaluate`, as the `dermxai` client's.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    /// <summary>Some images could not be read (the others were scored).</summary>
    public const int SomeSkipped = 1;
    /// <summary>The evaluation could not run: bad arguments, unreadable model or data set.</summary>
    public const int Failed = 2;
}

/// <summary>The `dermxai-evaluate` command line: one command, the engine in process.</summary>
internal static class EvaluateCli
{
    public static Task<int> RunAsync(string[] args, EvaluateConsoles consoles, CancellationToken cancellation)
    {
        var app = new CommandApp<EvaluateCommand>();
        app.WithData(consoles);
        app.Configure(config =>
        {
            config.SetApplicationName("dermxai-evaluate");
            config.Settings.Console = consoles.Out;
            config.SetExceptionHandler((error, _) => ReportFailure(consoles.Error, error));
            config.AddExample("samples", "--out", "out/eval", "--no-perturbation");
            config.AddExample("data/heldout", "--model", "models/default/model.onnx", "--method", "transformer_attribution,attention_rollout", "--limit", "200");
        });
        return app.RunAsync(args, cancellation);
    }

    /// <summary>A failure of the whole run: one line on the error console, exit code 2.</summary>
    private static int ReportFailure(IAnsiConsole errors, Exception error)
    {
        if (error is CommandAppException { Pretty: { } pretty }) errors.Write(pretty);
        else errors.Line(error is OperationCanceledException ? "cancelled" : $"error: {error.Message}");
        return ExitCodes.Failed;
    }
}

/// <summary>Where the tool writes: tables and written paths to <see cref="Out"/>, progress and failures to <see cref="Error"/>.</summary>
internal sealed record EvaluateConsoles(IAnsiConsole Out, IAnsiConsole Error)
{
    public static EvaluateConsoles FromProcess()
    {
        var error = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        // Redirected output has no terminal width; keep the tables on one line each in logs.
        if (Console.IsOutputRedirected) AnsiConsole.Console.Profile.Width = 160;
        return new EvaluateConsoles(AnsiConsole.Console, error);
    }
}

internal static class ConsoleLines
{
    /// <summary>Writes one line as is: no markup, no wrapping at the console width (for lines scripts grep).</summary>
    public static void Line(this IAnsiConsole console, string text) => console.Profile.Out.Writer.WriteLine(text);
}
