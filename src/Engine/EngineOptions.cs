namespace Dermxai.Engine;

/// <summary>Where ONNX Runtime runs the model.</summary>
public enum EngineDevice
{
    /// <summary>The CUDA execution provider if it loads, else the CPU (the choice is logged).</summary>
    Auto,
    Cuda,
    Cpu,
}

/// <summary>Everything the engine needs to load a model and serve requests.</summary>
public sealed record EngineOptions
{
    /// <summary>
    /// The full graph (contract v1: gradient and LRP outputs). MODEL.gradient.onnx and MODEL.forward.onnx
    /// beside it are loaded too where they exist, and requests run on the cheapest graph that serves them.
    /// </summary>
    public required string ModelPath { get; init; }

    /// <summary>
    /// The forward graph: classification, rankings, faithfulness checks and, where it outputs attn, the
    /// attention-only methods. Null means "<c>X.forward.onnx</c> beside <see cref="ModelPath"/> if it
    /// exists, else the full graph".
    /// </summary>
    public string? ForwardModelPath { get; init; }

    public EngineDevice Device { get; init; } = EngineDevice.Auto;

    /// <summary>CUDA only: allow TF32 matrix products (faster, less exact). Off for parity.</summary>
    public bool UseTf32 { get; init; }

    /// <summary>ONNX Runtime intra-op threads; 0 lets ONNX Runtime choose.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Largest batch formed from concurrent requests (rows = image × target pairs).</summary>
    public int MaxBatchSize { get; init; } = 8;

    /// <summary>
    /// Runs of at most this many rows keep ONNX Runtime's CPU arena for the next run; larger runs give
    /// its free chunks back, so memory does not stay at a large batch's high-water mark. Re-allocating
    /// (and page-faulting) a run's intermediate tensors costs a sixth to a third of a ViT-B
    /// transformer_attribution call on 2 cores (docs/memory.md). The default keeps a photo explained
    /// for its top 3 classes (3 rows) fast. 0: every run gives them back.
    /// </summary>
    public int ArenaKeepRows { get; init; } = 3;

    /// <summary>How long the batcher waits for more rows after the first one arrives.</summary>
    public TimeSpan MaxQueueDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Rows waiting beyond this number make new work fail at once (queue full).</summary>
    public int MaxQueueSize { get; init; } = 256;

    public ImageLimits ImageLimits { get; init; } = new();

    /// <summary>
    /// Runs every target row with its own copy of the image even where the graph takes target_image, as
    /// file sets made before target_image are run (tests compare both ways).
    /// </summary>
    internal bool OneImagePerTargetRow { get; init; }

    /// <summary>
    /// Ranks top-k targets with the forward graph before the explaining run even where the graph ranks
    /// them itself, as file sets made before dermxai.target_ranks are served (tests compare both ways).
    /// </summary>
    internal bool RankBeforeRun { get; init; }

    /// <summary>Called after every batch the engine runs (for metrics); must be cheap and not throw.</summary>
    public Action<BatchReport>? OnBatch { get; init; }
}

/// <summary>Caps applied to encoded images before and while decoding.</summary>
public sealed record ImageLimits
{
    public long MaxBytes { get; init; } = 20L * 1024 * 1024;
    public long MaxPixels { get; init; } = 40_000_000;
    public int MaxSide { get; init; } = 12_000;

    /// <summary>
    /// Photo pixels decoded and held by all calls at once; calls beyond it wait (see PixelBudget). One
    /// photo of <see cref="MaxPixels"/> fits by default; a larger one runs alone.
    /// </summary>
    public long MaxPixelsInFlight { get; init; } = 40_000_000;
}

/// <summary>One batch run by ONNX Runtime: which graph, how many rows, how long.</summary>
public readonly record struct BatchReport(string Graph, int Rows, double InferenceMs, int QueueDepth);
