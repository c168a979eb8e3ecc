using Microsoft.Extensions.Logging;
using Dermxai.Attribution;
using Microsoft.ML.OnnxRuntime;

namespace Dermxai.Engine;

/// <summary>
/// One ONNX Runtime session over one graph of the file set ("full", "gradient" or "forward"), created
/// once. What it can serve is read from its inputs and outputs, not from version numbers.
/// </summary>
internal sealed class OnnxGraph : IDisposable
{
    internal const string PixelInput = "pixel_values", TargetInput = "target_class", TargetImageInput = "target_image";
    internal const string LogitsOutput = "logits", TargetOutput = "target";
    internal const string AttnOutput = "attn", AttnGradOutput = "attn_grad", AttnRelOutput = "attn_rel";

    private readonly InferenceSession _session;
    private readonly bool _float64;
    private readonly int _arenaKeepRows;

    private OnnxGraph(InferenceSession session, string name, bool float64, int arenaKeepRows)
    {
        _session = session;
        Name = name;
        _float64 = float64;
        _arenaKeepRows = arenaKeepRows;
        TakesTargets = session.InputMetadata.ContainsKey(TargetInput);
        TakesTargetImage = TakesTargets && session.InputMetadata.ContainsKey(TargetImageInput);
        ReducedHeads = Metadata.GetValueOrDefault("dermxai.reduced_heads") == "true";
        RanksTargets = TakesTargets && Metadata.GetValueOrDefault("dermxai.target_ranks") == "true";
        if (!session.InputMetadata.ContainsKey(PixelInput) || !session.OutputMetadata.ContainsKey(LogitsOutput))
            throw new InvalidDataException($"The {name} graph lacks the contract's '{PixelInput}' input or '{LogitsOutput}' output.");
    }

    /// <summary>"full", "gradient" or "forward": the name in logs and batch metrics.</summary>
    public string Name { get; }
    public IReadOnlyDictionary<string, string> Metadata => _session.ModelMetadata.CustomMetadataMap;
    public bool HasOutput(string name) => _session.OutputMetadata.ContainsKey(name);

    /// <summary>The graph takes target_class rows (it has a backward pass).</summary>
    public bool TakesTargets { get; }

    /// <summary>
    /// The graph takes target_image: R target rows explain B images, each image's forward pass runs once.
    /// Without it (file sets made before) every target row carries its own copy of the image.
    /// </summary>
    public bool TakesTargetImage { get; }

    /// <summary>Metadata dermxai.reduced_heads: head-reduced [L,·,N,N] maps instead of [L,·,H,N,N] tensors.</summary>
    public bool ReducedHeads { get; }

    /// <summary>
    /// Metadata dermxai.target_ranks: target_class −r asks for the image's r-th ranked class, so a top-k
    /// request needs no ranking before its run. Without it every negative value means the argmax.
    /// </summary>
    public bool RanksTargets { get; }

    /// <summary>True when the graph's outputs (and, for class-specific maps, its target input) cover the method.</summary>
    public bool Serves(RelevanceMethod method) =>
        (TakesTargets || !method.IsClassSpecific()) && GraphMaps.OutputsFor(method, ReducedHeads).All(HasOutput);

    /// <summary>N of the graph's attention outputs as declared; -1 if it has none or the axis is symbolic.</summary>
    public int TokenDimension()
    {
        foreach (var name in new[] { AttnOutput, GraphMaps.AttnMeanOutput })
            if (_session.OutputMetadata.TryGetValue(name, out var output) && output.Dimensions.Length > 0)
                return output.Dimensions[^1];
        return -1;
    }

    /// <summary>Opens the session on the chosen device; returns the device actually used.</summary>
    internal static (OnnxGraph Graph, string Device) Open(
        string path, string name, EngineOptions options, bool float64, ILogger logger)
    {
        if (options.Device != EngineDevice.Cpu)
        {
            var sessionOptions = CreateSessionOptions(options, float64);
            try
            {
                using var cuda = new OrtCUDAProviderOptions();
                cuda.UpdateOptions(new Dictionary<string, string> { ["use_tf32"] = options.UseTf32 ? "1" : "0" });
                sessionOptions.AppendExecutionProvider_CUDA(cuda);
                return (new OnnxGraph(new InferenceSession(path, sessionOptions), name, float64, options.ArenaKeepRows), "cuda");
            }
            catch (Exception e) when (options.Device == EngineDevice.Auto && e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                logger.LogInformation("CUDA execution provider unavailable for the {Graph} graph ({Reason}); using the CPU",
                    name, FirstLine(e.Message));
            }
            finally { sessionOptions.Dispose(); }
        }
        using var cpuOptions = CreateSessionOptions(options, float64);
        return (new OnnxGraph(new InferenceSession(path, cpuOptions), name, float64, options.ArenaKeepRows), "cpu");
    }

    /// <summary>
    /// Float64 graphs exist for exactness: ORT's extended fusions move their LRP outputs by ~6e-6
    /// relative (measured on the golden small model), so they get basic optimisation only.
    /// </summary>
    private static GraphOptimizationLevel OptimizationLevel(bool float64) =>
        float64 ? GraphOptimizationLevel.ORT_ENABLE_BASIC : GraphOptimizationLevel.ORT_ENABLE_ALL;

    private static SessionOptions CreateSessionOptions(EngineOptions options, bool float64)
    {
        var so = new SessionOptions { GraphOptimizationLevel = OptimizationLevel(float64) };
        if (options.IntraOpThreads > 0) so.IntraOpNumThreads = options.IntraOpThreads;
        return so;
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    /// <summary>
    /// Runs one assembled batch and hands every job its slices of the outputs. When
    /// <paramref name="abandoned"/> fires (no caller waits for the result any more) ONNX Runtime is told to
    /// stop the run at its next node.
    /// </summary>
    internal JobOutputs[] Run(GraphBatch batch, int imageSize, CancellationToken abandoned = default)
    {
        var outputNames = new List<string> { LogitsOutput };
        if (TakesTargets && HasOutput(TargetOutput)) outputNames.Add(TargetOutput);
        outputNames.AddRange(batch.Outputs);

        long[] pixelShape = [batch.Images, 3, imageSize, imageSize];
        var inputNames = new List<string> { PixelInput };
        var inputs = new List<OrtValue>
        {
            _float64 ? OrtValue.CreateTensorValueFromMemory((double[])batch.Pixels, pixelShape)
                     : OrtValue.CreateTensorValueFromMemory((float[])batch.Pixels, pixelShape),
        };
        if (TakesTargets)
        {
            inputNames.Add(TargetInput);
            inputs.Add(OrtValue.CreateTensorValueFromMemory(batch.Targets, [batch.Targets.Length]));
        }
        if (TakesTargetImage)
        {
            inputNames.Add(TargetImageInput);
            inputs.Add(OrtValue.CreateTensorValueFromMemory(batch.TargetImage, [batch.TargetImage.Length]));
        }
        try
        {
            using var runOptions = new RunOptions();
            if (Math.Max(batch.Images, batch.Targets.Length) > _arenaKeepRows)
                runOptions.AddRunConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
            using var stop = abandoned.Register(() => runOptions.Terminate = true);
            abandoned.ThrowIfCancellationRequested();
            using var results = _session.Run(runOptions, inputNames, inputs, outputNames);
            return GraphOutputs.Split(batch, outputNames, results, _float64);
        }
        finally
        {
            foreach (var input in inputs) input.Dispose();
        }
    }

    internal static int ArgMax(ReadOnlySpan<double> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    public void Dispose() => _session.Dispose();
}
