using Dermxai.Engine;

namespace Dermxai.Server;

/// <summary>
/// The server's settings, bound from the "Dermxai" section: appsettings.json, environment variables
/// (DERMXAI__MODEL, DERMXAI__DEVICE, ...) and the command line (--model, --device, --urls, ...).
/// </summary>
public sealed class ServerOptions
{
    public const string Section = "Dermxai";
    /// <summary>The gRPC endpoint when neither Urls nor --urls is given.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5000";

    /// <summary>The contract-v1 ONNX file; relative paths are tried against the working directory, then the repo root.</summary>
    public string Model { get; set; } = "models/default/model.onnx";
    /// <summary>Forward-only sibling; empty means X.forward.onnx beside the model when present.</summary>
    public string? ForwardModel { get; set; }
    /// <summary>auto | cuda | cpu.</summary>
    public string Device { get; set; } = "auto";
    public bool UseTf32 { get; set; }
    public int IntraOpThreads { get; set; }

    public int MaxBatchSize { get; set; } = 8;
    public double MaxQueueDelayMs { get; set; } = 5;
    public int MaxQueueSize { get; set; } = 256;

    public long MaxImageBytes { get; set; } = 20L * 1024 * 1024;
    public long MaxImagePixels { get; set; } = 40_000_000;
    public int MaxImageSide { get; set; } = 12_000;
    public long MaxImagePixelsInFlight { get; set; } = 40_000_000;

    /// <summary>gRPC message limits (the 4 MB default is too small for overlays of large photos).</summary>
    public int MaxReceiveMessageSize { get; set; } = 32 * 1024 * 1024;
    public int MaxSendMessageSize { get; set; } = 64 * 1024 * 1024;

    /// <summary>gRPC endpoints, plaintext HTTP/2, separated by ';'. Empty means --urls, else <see cref="DefaultUrls"/>.</summary>
    public string? Urls { get; set; }
    /// <summary>Prometheus endpoint (HTTP/1.1, path /metrics); empty disables it.</summary>
    public string MetricsUrl { get; set; } = "http://127.0.0.1:9464";

    /// <summary>How long shutdown waits for in-flight calls.</summary>
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
        MaxQueueDelay = TimeSpan.FromMilliseconds(MaxQueueDelayMs),
        MaxQueueSize = MaxQueueSize,
        ImageLimits = new ImageLimits
        {
            MaxBytes = MaxImageBytes, MaxPixels = MaxImagePixels, MaxSide = MaxImageSide, MaxPixelsInFlight = MaxImagePixelsInFlight,
        },
        OnBatch = onBatch,
    };
}
