using System.ComponentModel;
using Dermxai.Client.Inputs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Client.Bench;

internal sealed class BenchSettings : LoadSettings
{
    private const string DefaultDuration = "10s";
    private const string DefaultWarmup = "2s";

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
    public string? Duration { get; set; }

    [CommandOption("--requests <N>")]
    [Description("Closed loop: measure exactly N calls in all, shared by the --concurrency callers, instead of a --duration (not with --duration or --rps).")]
    public long? Requests { get; set; }

    [CommandOption("--warmup <TIME>")]
    [Description("Load before measuring, not counted. Default: 2s.")]
    public string? Warmup { get; set; }

    [CommandOption("--warmup-requests <N>")]
    [Description("Closed loop: N calls before measuring, not counted, instead of a --warmup time (not with --warmup or --rps; 0: none).")]
    public long? WarmupRequests { get; set; }

    [CommandOption("--json <FILE>")]
    [Description("Write the summary as JSON shaped like ghz's (durations in ns) to FILE (--json=- for standard output; the table then goes to standard error).")]
    public string? Json { get; set; }

    public bool OpenLoop => Rps > 0;
    public bool CountsRequests => Requests is not null;
    public bool CountsWarmupRequests => WarmupRequests is not null;

    /// <summary>The measured time; zero when the run counts calls (--requests).</summary>
    public TimeSpan MeasuredDuration => CountsRequests ? TimeSpan.Zero : DurationText.Parse(Duration ?? DefaultDuration);

    /// <summary>The warm-up time; zero when the warm-up counts calls (--warmup-requests).</summary>
    public TimeSpan WarmupDuration => CountsWarmupRequests ? TimeSpan.Zero : DurationText.Parse(Warmup ?? DefaultWarmup);

    public override ValidationResult Validate()
    {
        var load = base.Validate();
        if (!load.Successful) return load;
        if (Concurrency < 1) return ValidationResult.Error("--concurrency must be >= 1.");
        if (Rps < 0 || double.IsNaN(Rps)) return ValidationResult.Error("--rps must be > 0 (or left out for a closed loop).");
        if (MaxInFlight < 1) return ValidationResult.Error("--max-in-flight must be >= 1.");
        var counted = ValidateCounts();
        if (!counted.Successful) return counted;
        try
        {
            if (!CountsRequests && MeasuredDuration <= TimeSpan.Zero) return ValidationResult.Error("--duration must be > 0.");
            _ = WarmupDuration;
        }
        catch (FormatException error)
        {
            return ValidationResult.Error(error.Message);
        }
        return ValidationResult.Success();
    }

    private ValidationResult ValidateCounts()
    {
        if (CountsRequests)
        {
            if (Requests < 1) return ValidationResult.Error("--requests must be >= 1.");
            if (Duration is not null) return ValidationResult.Error("Give --requests or --duration, not both: one sets how much is measured.");
            if (OpenLoop) return ValidationResult.Error("--requests counts the calls of a closed loop (--concurrency); an open loop (--rps) runs for a --duration.");
        }
        if (CountsWarmupRequests)
        {
            if (WarmupRequests < 0) return ValidationResult.Error("--warmup-requests must be >= 0.");
            if (Warmup is not null) return ValidationResult.Error("Give --warmup-requests or --warmup, not both: one sets the warm-up.");
            if (OpenLoop) return ValidationResult.Error("--warmup-requests warms up a closed loop (--concurrency); an open loop (--rps) warms up for a --warmup time.");
        }
        return ValidationResult.Success();
    }
}
