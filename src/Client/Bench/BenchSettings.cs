using System.ComponentModel;
using Dermxai.Client.Inputs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Client.Bench;

internal sealed class BenchSettings : LoadSettings
{
    public BenchSettings() => Retries = 0; // a load test counts failures; it does not hide them

    [CommandOption("--concurrency <N>")]
    [Description("Closed loop: N callers, each sending its next request when the last one returns. Default: 1.")]
    public int Concurrency { get; set; } = 1;

    [CommandOption("--rps <R>")]
    [Description("Open loop instead: start R requests per second whatever the latency (capped by --max-in-flight).")]
    public double Rps { get; set; }

    [CommandOption("--max-in-flight <N>")]
    [Description("Open loop: most calls outstanding at once; the schedule waits beyond it. Default: 1024.")]
    public int MaxInFlight { get; set; } = 1024;

    [CommandOption("--duration <TIME>")]
    [Description("How long to measure (10s, 500ms, 2m; plain numbers are seconds). Default: 10s.")]
    public string Duration { get; set; } = "10s";

    [CommandOption("--warmup <TIME>")]
    [Description("Load before measuring, not counted. Default: 2s.")]
    public string Warmup { get; set; } = "2s";

    [CommandOption("--json <FILE>")]
    [Description("Write the summary as JSON shaped like ghz's (durations in ns) to FILE (--json=- for standard output; the table then goes to standard error).")]
    public string? Json { get; set; }

    public bool OpenLoop => Rps > 0;
    public TimeSpan MeasuredDuration => DurationText.Parse(Duration);
    public TimeSpan WarmupDuration => DurationText.Parse(Warmup);

    public override ValidationResult Validate()
    {
        var load = base.Validate();
        if (!load.Successful) return load;
        if (Concurrency < 1) return ValidationResult.Error("--concurrency must be >= 1.");
        if (Rps < 0 || double.IsNaN(Rps)) return ValidationResult.Error("--rps must be > 0 (or left out for a closed loop).");
        if (MaxInFlight < 1) return ValidationResult.Error("--max-in-flight must be >= 1.");
        try
        {
            if (MeasuredDuration <= TimeSpan.Zero) return ValidationResult.Error("--duration must be > 0.");
            _ = WarmupDuration;
        }
        catch (FormatException error)
        {
            return ValidationResult.Error(error.Message);
        }
        return ValidationResult.Success();
    }
}
