using System.ComponentModel.DataAnnotations;
using Dermxai.Engine;
using Microsoft.Extensions.Options;

namespace Dermxai.Server;

/// <summary>
/// The server's settings and the one home of their defaults, bound from the "Dermxai" section:
/// appsettings.json, environment variables (DERMXAI__MODEL, DERMXAI__DEVICE, ...) and the command line
/// (--model, --device, --urls, ...) override them. Checked when the host starts
/// (<see cref="ServerOptionsValidation"/>): a value out of range stops the start with its name.
/// </summary>
public sealed class ServerOptions
{
    public const string Section = "Dermxai";
    /// <summary>The gRPC endpoint when neither Urls nor --urls is given.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5000";
    /// <summary>The engine's own defaults (EngineOptions, ImageLimits), the home of the engine settings' defaults.</summary>
    private static readonly EngineOptions EngineDefaults = new() { ModelPath = "" };

    /// <summary>The contract-v1 ONNX file; relative paths are tried against the working directory, then the repo root.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Model { get; set; } = "models/default/model.onnx";
    /// <summary>Forward-only sibling; empty means X.forward.onnx beside the model when present.</summary>
    public string? ForwardModel { get; set; }
    /// <summary>auto | cuda (alias gpu) | cpu (<see cref="EngineDevices"/>).</summary>
    public string Device { get; set; } = EngineDefaults.Device.ToString().ToLowerInvariant();
    public bool UseTf32 { get; set; }
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    [Range(1, 1024)]
    public int MaxBatchSize { get; set; } = EngineDefaults.MaxBatchSize;
    [Range(0, 1024)]
    public int ArenaKeepRows { get; set; } = EngineDefaults.ArenaKeepRows;
    [Range(0, 10_000)]
    public double MaxQueueDelayMs { get; set; } = EngineDefaults.MaxQueueDelay.TotalMilliseconds;
    [Range(1, 1_000_000)]
    public int MaxQueueSize { get; set; } = EngineDefaults.MaxQueueSize;

    [Range(1, double.MaxValue)]
    public long MaxImageBytes { get; set; } = EngineDefaults.ImageLimits.MaxBytes;
    [Range(1, double.MaxValue)]
    public long MaxImagePixels { get; set; } = EngineDefaults.ImageLimits.MaxPixels;
    [Range(1, int.MaxValue)]
    public int MaxImageSide { get; set; } = EngineDefaults.ImageLimits.MaxSide;
    [Range(1, double.MaxValue)]
    public long MaxImagePixelsInFlight { get; set; } = EngineDefaults.ImageLimits.MaxPixelsInFlight;

    /// <summary>gRPC message limits (the 4 MB default is too small for overlays of large photos).</summary>
    [Range(1, int.MaxValue)]
    public int MaxReceiveMessageSize { get; set; } = 32 * 1024 * 1024;
    [Range(1, int.MaxValue)]
    public int MaxSendMessageSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>gRPC endpoints, plaintext HTTP/2, separated by ';'. Empty means --urls, else <see cref="DefaultUrls"/>.</summary>
    public string? Urls { get; set; }
    /// <summary>Prometheus endpoint (HTTP/1.1, path /metrics); empty disables it.</summary>
    public string MetricsUrl { get; set; } = "http://127.0.0.1:9464";

    /// <summary>How long shutdown waits for in-flight calls.</summary>
    [Range(0, 3600)]
    public double ShutdownTimeoutSeconds { get; set; } = 30;
    /// <summary>When false, a missing model leaves the server up, answering UNAVAILABLE (health NOT_SERVING).</summary>
    public bool RequireModel { get; set; } = true;
    /// <summary>Run one explanation before reporting SERVING (EngineWarmUp).</summary>
    public bool WarmUp { get; set; } = true;
    /// <summary>Log as JSON lines instead of plain text.</summary>
    public bool JsonLogs { get; set; }

    internal EngineOptions ToEngineOptions(string modelPath, Action<BatchReport> onBatch) => new()
    {
        ModelPath = modelPath,
        ForwardModelPath = string.IsNullOrWhiteSpace(ForwardModel) ? null : ForwardModel,
        Device = EngineDevices.Parse(Device),
        UseTf32 = UseTf32,
        IntraOpThreads = IntraOpThreads,
        MaxBatchSize = MaxBatchSize,
        ArenaKeepRows = ArenaKeepRows,
        MaxQueueDelay = TimeSpan.FromMilliseconds(MaxQueueDelayMs),
        MaxQueueSize = MaxQueueSize,
        ImageLimits = new ImageLimits
        {
            MaxBytes = MaxImageBytes, MaxPixels = MaxImagePixels, MaxSide = MaxImageSide, MaxPixelsInFlight = MaxImagePixelsInFlight,
        },
        OnBatch = onBatch,
    };
}

/// <summary>The checks data annotations cannot express; with them, run once when the host starts.</summary>
internal sealed class ServerOptionsValidation : IValidateOptions<ServerOptions>
{
    public ValidateOptionsResult Validate(string? name, ServerOptions options) =>
        EngineDevices.TryParse(options.Device, out _) ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Dermxai:Device '{options.Device}' is not one of auto, cuda (or gpu), cpu.");

    /// <summary>Binds <see cref="ServerOptions"/> to its section, checked by the annotations and this validation at start.</summary>
    internal static void AddServerOptions(IServiceCollection services, IConfigurationSection section)
    {
        services.AddOptions<ServerOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ServerOptions>, ServerOptionsValidation>();
    }
}
