using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Dermxai.Attribution;
using Microsoft.ML.OnnxRuntime;

namespace Dermxai.Engine;

/// <summary>The per-image outputs of one batch row (attention tensors [L, 1, H, N, N] as float32).</summary>
internal sealed class RowOutputs
{
    public required double[] Logits { get; init; }
    public required long Target { get; init; }
    public float[]? Attn { get; init; }
    public float[]? AttnGrad { get; init; }
    public float[]? AttnRel { get; init; }
}

/// <summary>One ONNX Runtime session over one contract graph (full or forward-only), created once.</summary>
internal sealed class OnnxGraph : IDisposable
{
    internal const string PixelInput = "pixel_values", TargetInput = "target_class";
    internal const string LogitsOutput = "logits", TargetOutput = "target";
    internal const string AttnOutput = "attn", AttnGradOutput = "attn_grad", AttnRelOutput = "attn_rel";

    private readonly InferenceSession _session;
    private readonly bool _float64;
    private readonly bool _hasTargetInput;

    private OnnxGraph(InferenceSession session, string name, bool float64)
    {
        _session = session;
        Name = name;
        _float64 = float64;
        _hasTargetInput = session.InputMetadata.ContainsKey(TargetInput);
        if (!session.InputMetadata.ContainsKey(PixelInput) || !session.OutputMetadata.ContainsKey(LogitsOutput))
            throw new InvalidDataException($"The {name} graph lacks the contract's '{PixelInput}' input or '{LogitsOutput}' output.");
    }

    public string Name { get; }
    public IReadOnlyDictionary<string, string> Metadata => _session.ModelMetadata.CustomMetadataMap;
    public bool HasOutput(string name) => _session.OutputMetadata.ContainsKey(name);

    /// <summary>The size of one axis of an output as declared in the graph; -1 if the output is absent or the axis is symbolic.</summary>
    public int OutputDimension(string name, int axis) =>
        _session.OutputMetadata.TryGetValue(name, out var output) && axis < output.Dimensions.Length ? output.Dimensions[axis] : -1;

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
                return (new OnnxGraph(new InferenceSession(path, sessionOptions), name, float64), "cuda");
            }
            catch (Exception e) when (options.Device == EngineDevice.Auto && e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                logger.LogInformation("CUDA execution provider unavailable for the {Graph} graph ({Reason}); using the CPU",
                    name, FirstLine(e.Message));
            }
            finally { sessionOptions.Dispose(); }
        }
        using var cpuOptions = CreateSessionOptions(options, float64);
        return (new OnnxGraph(new InferenceSession(path, cpuOptions), name, float64), "cpu");
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
    /// Runs <paramref name="pixels"/> ([B·3·S·S], float[] or double[]) with one target per row
    /// (-1 = argmax) and splits the requested outputs per row. When <paramref name="abandoned"/> fires (no
    /// caller waits for the result any more) ONNX Runtime is told to stop the run at its next node.
    /// </summary>
    internal RowOutputs[] Run(Array pixels, int batch, int imageSize, long[] targets, ContractTensors fetch,
        CancellationToken abandoned = default)
    {
        var outputNames = new List<string> { LogitsOutput };
        if (_hasTargetInput) outputNames.Add(TargetOutput);
        if (fetch.HasFlag(ContractTensors.Attention)) outputNames.Add(AttnOutput);
        if (fetch.HasFlag(ContractTensors.AttentionGradient)) outputNames.Add(AttnGradOutput);
        if (fetch.HasFlag(ContractTensors.AttentionRelevance)) outputNames.Add(AttnRelOutput);

        long[] pixelShape = [batch, 3, imageSize, imageSize];
        using var pixelValue = _float64
            ? OrtValue.CreateTensorValueFromMemory((double[])pixels, pixelShape)
            : OrtValue.CreateTensorValueFromMemory((float[])pixels, pixelShape);
        var inputNames = new List<string> { PixelInput };
        var inputs = new List<OrtValue> { pixelValue };
        OrtValue? targetValue = null;
        if (_hasTargetInput)
        {
            targetValue = OrtValue.CreateTensorValueFromMemory(targets, [batch]);
            inputNames.Add(TargetInput);
            inputs.Add(targetValue);
        }
        try
        {
            using var runOptions = new RunOptions();
            // ORT's CPU arena otherwise keeps the high-water mark of the largest batch (attention tensors
            // and their gradients) for the life of the process; free chunks go back after each run.
            runOptions.AddRunConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
            using var stop = abandoned.Register(() => runOptions.Terminate = true);
            abandoned.ThrowIfCancellationRequested();
            using var results = _session.Run(runOptions, inputNames, inputs, outputNames);
            return SplitRows(results, outputNames, batch, targets);
        }
        finally { targetValue?.Dispose(); }
    }

    private RowOutputs[] SplitRows(IReadOnlyList<OrtValue> results, List<string> names, int batch, long[] requested)
    {
        var logits = ToDouble(results[0]);
        int classes = logits.Length / batch;
        long[]? resolved = names.Contains(TargetOutput) ? results[names.IndexOf(TargetOutput)].GetTensorDataAsSpan<long>().ToArray() : null;
        float[]?[] Per(string name) => names.Contains(name) ? SplitLayered(results[names.IndexOf(name)], batch) : new float[]?[batch];
        var attn = Per(AttnOutput);
        var grad = Per(AttnGradOutput);
        var rel = Per(AttnRelOutput);

        var rows = new RowOutputs[batch];
        for (int b = 0; b < batch; b++)
        {
            var rowLogits = logits.AsSpan(b * classes, classes).ToArray();
            rows[b] = new RowOutputs
            {
                Logits = rowLogits,
                Target = resolved?[b] ?? (requested[b] >= 0 ? requested[b] : ArgMax(rowLogits)),
                Attn = attn[b], AttnGrad = grad[b], AttnRel = rel[b],
            };
        }
        return rows;
    }

    private double[] ToDouble(OrtValue value)
    {
        if (_float64) return value.GetTensorDataAsSpan<double>().ToArray();
        var f = value.GetTensorDataAsSpan<float>();
        var d = new double[f.Length];
        for (int i = 0; i < f.Length; i++) d[i] = f[i];
        return d;
    }

    /// <summary>[L, B, H, N, N] → B arrays of [L, 1, H, N, N], float32 (float64 outputs are cast).</summary>
    private float[]?[] SplitLayered(OrtValue value, int batch)
    {
        var shape = value.GetTensorTypeAndShape().Shape;
        int layers = (int)shape[0];
        int perLayer = checked((int)(shape[2] * shape[3] * shape[4]));
        var rows = new float[]?[batch];
        for (int b = 0; b < batch; b++) rows[b] = GC.AllocateUninitializedArray<float>(layers * perLayer);
        if (_float64)
        {
            var src = value.GetTensorDataAsSpan<double>();
            for (int l = 0; l < layers; l++)
            for (int b = 0; b < batch; b++)
            {
                var from = src.Slice((l * batch + b) * perLayer, perLayer);
                var to = rows[b].AsSpan(l * perLayer, perLayer);
                for (int i = 0; i < perLayer; i++) to[i] = (float)from[i];
            }
        }
        else
        {
            var src = value.GetTensorDataAsSpan<float>();
            for (int l = 0; l < layers; l++)
            for (int b = 0; b < batch; b++)
                src.Slice((l * batch + b) * perLayer, perLayer).CopyTo(rows[b].AsSpan(l * perLayer, perLayer));
        }
        return rows;
    }

    internal static int ArgMax(ReadOnlySpan<double> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    public void Dispose() => _session.Dispose();
}
