using System.Diagnostics;
using Dermxai.Attribution;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dermxai.Engine;

/// <summary>
/// The explain engine without any server: loads a contract-v1 model once (full graph plus its
/// forward-only sibling), decodes and preprocesses photos, batches concurrent requests through ONNX
/// Runtime (CUDA or CPU) and turns the contract tensors into relevance maps and PNGs.
/// Thread-safe; create one per model and dispose it when done. Refusals throw <see cref="EngineException"/>.
/// </summary>
public sealed class DermxaiEngine : IAsyncDisposable
{
    private readonly record struct FullRow(Array Pixels, long Target, ContractTensors Fetch);

    private readonly OnnxGraph _full;
    private readonly OnnxGraph? _forwardGraph;
    private readonly DynamicBatcher<FullRow, RowOutputs> _fullBatcher;
    private readonly DynamicBatcher<Array, RowOutputs> _forwardBatcher;
    private readonly ImageIntake _intake;
    private readonly ILogger _logger;

    private DermxaiEngine(EngineOptions options, OnnxGraph full, OnnxGraph? forward, ModelDescription model, string device, ILogger logger)
    {
        Options = options;
        Model = model;
        Device = device;
        _full = full;
        _forwardGraph = forward;
        _logger = logger;
        _intake = new ImageIntake(options.ImageLimits, model);
        _fullBatcher = new DynamicBatcher<FullRow, RowOutputs>(RunFull, options.MaxBatchSize, options.MaxQueueDelay,
            options.MaxQueueSize, (rows, ms, depth) => ReportBatch("full", rows, ms, depth));
        _forwardBatcher = new DynamicBatcher<Array, RowOutputs>(RunForward, options.MaxBatchSize, options.MaxQueueDelay,
            options.MaxQueueSize, (rows, ms, depth) => ReportBatch("forward", rows, ms, depth));
    }

    public EngineOptions Options { get; }
    public ModelDescription Model { get; }
    /// <summary>"cuda" or "cpu": where the full graph runs.</summary>
    public string Device { get; }

    internal int LargestBatch { get; private set; }
    internal int BatchesRun { get; private set; }

    /// <summary>Loads the model (session creation of LRP graphs takes seconds: do it once).</summary>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a usable contract-v1 model.</exception>
    public static DermxaiEngine Load(EngineOptions options, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        string path = Path.GetFullPath(options.ModelPath);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The model file {path} does not exist.", path);

        var clock = Stopwatch.StartNew();
        string sha = ModelDescription.FileSha256(path);
        OnnxGraph full;
        string device;
        try { (full, device) = OnnxGraph.Open(path, "full", options, float64: false, logger); }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{Path.GetFileName(path)} could not be loaded by ONNX Runtime: {e.Message.Split('\n')[0]}", e);
        }
        try
        {
            var model = ModelDescription.Parse(path, full.Metadata, sha, full.OutputDimension(OnnxGraph.AttnOutput, axis: 3));
            if (full.Metadata.GetValueOrDefault("dermxai.graph") == "forward" || !full.HasOutput(OnnxGraph.AttnOutput))
                throw new InvalidDataException(
                    $"{Path.GetFileName(path)} is a forward-only graph; serve the full graph (with attn, attn_grad, attn_rel) instead.");
            if (model.IsFloat64) { full.Dispose(); (full, device) = OnnxGraph.Open(path, "full", options, float64: true, logger); }
            var forward = OpenForward(path, options with { Device = device == "cuda" ? EngineDevice.Cuda : EngineDevice.Cpu }, model, logger);
            logger.LogInformation(
                "Loaded model {Model} (sha256 {Sha}, {Architecture}, {Classes} classes, {DType}) on {Device} in {Ms:F0} ms; forward graph: {Forward}",
                path, sha, model.Architecture, model.NumClasses, model.DType, device, clock.Elapsed.TotalMilliseconds,
                forward is null ? "none (full graph used)" : "loaded");
            return new DermxaiEngine(options, full, forward, model, device, logger);
        }
        catch
        {
            full.Dispose();
            throw;
        }
    }

    private static OnnxGraph? OpenForward(string path, EngineOptions options, ModelDescription model, ILogger logger)
    {
        string forwardPath = options.ForwardModelPath ?? Path.ChangeExtension(path, ".forward.onnx");
        if (!File.Exists(forwardPath))
        {
            if (options.ForwardModelPath is not null)
                throw new FileNotFoundException($"The forward model file {forwardPath} does not exist.", forwardPath);
            return null;
        }
        var (graph, _) = OnnxGraph.Open(forwardPath, "forward", options, model.IsFloat64, logger);
        string ckpt = graph.Metadata.GetValueOrDefault("checkpoint_sha256", "");
        if (ckpt != model.CheckpointSha256)
        {
            graph.Dispose();
            throw new InvalidDataException(
                $"{Path.GetFileName(forwardPath)} was exported from another checkpoint than {Path.GetFileName(path)}.");
        }
        return graph;
    }

    /// <summary>The differential: top-k classes with probabilities (forward graph only).</summary>
    public async Task<ClassifyResult> ClassifyAsync(ImageSource image, int? topK = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        int k = ResolveTopK(topK);
        _forwardBatcher.ThrowIfFull(1);
        var timings = new StageTimings();
        var (prepared, reservation) = await _intake.PrepareAsync(image, timings, cancel).ConfigureAwait(false);
        prepared.Photo.Dispose();   // only the model's tensor goes on: the photo's pixels are returned now
        reservation?.Dispose();
        var row = (await _forwardBatcher.RunAsync([prepared.Pixels], cancel).ConfigureAwait(false))[0];
        timings.QueueMs = row.QueueMs;
        timings.InferenceMs = row.InferenceMs;
        timings.TotalMs = clock.Elapsed.TotalMilliseconds;
        return new ClassifyResult(Differential(row.Value.Logits, k), timings);
    }

    /// <summary>
    /// Refuses method and target lists longer than the model could use (INVALID_ARGUMENT naming the list
    /// and its limit); callers that map wire messages check before building the lists.
    /// </summary>
    public void CheckListSizes(int methods, int targets) => ExplainPlan.CheckCounts(methods, targets, Model);

    /// <summary>The differential plus one map per (method, target) pair: methods outer, targets inner.</summary>
    public async Task<ExplainResult> ExplainAsync(ImageSource image, ExplainOptions options, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var request = ExplainPlan.Validate(options, Model);
        int k = ResolveTopK(options.TopK);
        _fullBatcher.ThrowIfFull(1);
        var timings = new StageTimings();
        var (prepared, reservation) = await _intake.PrepareAsync(image, timings, cancel).ConfigureAwait(false);
        using var photoPixels = reservation;
        using var photo = prepared.Photo;

        double[]? forwardLogits = null;
        if (request.NeedsForwardFirst)
        {
            var forward = (await _forwardBatcher.RunAsync([prepared.Pixels], cancel).ConfigureAwait(false))[0];
            AddBatchTimes(timings, forward);
            forwardLogits = forward.Value.Logits;
        }
        var targets = request.ResolveTargets(forwardLogits, Model);
        bool anyClassSpecific = request.Methods.Any(m => m.IsClassSpecific());
        var rowTargets = anyClassSpecific ? targets : [targets[0]];
        var fetch = request.Methods.Aggregate(ContractTensors.None, (f, m) => f | m.Needs());

        var rows = new FullRow[rowTargets.Count];
        for (int i = 0; i < rows.Length; i++) rows[i] = new FullRow(prepared.Pixels, rowTargets[i], fetch);
        var outputs = await _fullBatcher.RunAsync(rows, cancel).ConfigureAwait(false);
        AddBatchTimes(timings, outputs[0]);
        cancel.ThrowIfCancellationRequested();

        var logits = outputs[0].Value.Logits;
        var explanations = new List<Explanation>();
        foreach (var method in request.Methods)
        {
            for (int t = 0; t < targets.Count; t++)
            {
                var row = outputs[method.IsClassSpecific() ? t : 0].Value;
                int target = (int)(targets[t] >= 0 ? targets[t] : outputs[t < outputs.Length ? t : 0].Value.Target);
                cancel.ThrowIfCancellationRequested();
                explanations.Add(await ExplainOneAsync(method, target, row, logits, prepared, request, cancel).ConfigureAwait(false));
            }
        }
        foreach (var e in explanations) { timings.AttributionMs += e.AttributionMs; timings.RenderMs += e.RenderMs; }
        timings.TotalMs = clock.Elapsed.TotalMilliseconds;
        return new ExplainResult(Differential(logits, k), explanations, prepared.Photo.Width, prepared.Photo.Height, timings);
    }

    private async Task<Explanation> ExplainOneAsync(RelevanceMethod method, int target, RowOutputs row, double[] logits,
        PreparedImage prepared, ExplainPlan request, CancellationToken cancel)
    {
        int g = Model.GridSize;
        int startLayer = method.UsesStartLayer() ? request.StartLayer : 0;
        var clock = Stopwatch.StartNew();
        var grid = new float[g * g];
        var shape = Model.ContractShape(batch: 1);
        RelevanceMaps.Compute(method, shape, row.Attn ?? [], row.AttnGrad ?? [], row.AttnRel ?? [], startLayer, grid);
        double attributionMs = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var (heatmap, overlay) = OverlayRenderer.Render(grid, g, prepared.Photo, prepared.Crop, request.Colormap,
            request.OverlayAlpha, request.HeatmapPng, request.OverlayPng);
        double renderMs = clock.Elapsed.TotalMilliseconds;

        var score = Score(logits, target);
        FaithfulnessResult? faithfulness = request.FaithfulnessFraction > 0
            ? await FaithfulnessAsync(grid, target, score.Probability, prepared, request.FaithfulnessFraction, cancel).ConfigureAwait(false)
            : null;
        return new Explanation(method.Id(), score, method.IsClassSpecific(), startLayer, g, g, grid, heatmap, overlay,
            faithfulness, attributionMs, renderMs);
    }

    /// <summary>Re-classifies with the most and, separately, the least relevant patches set to black.</summary>
    private async Task<FaithfulnessResult> FaithfulnessAsync(float[] grid, int target, float probability,
        PreparedImage prepared, float fraction, CancellationToken cancel)
    {
        var mostRelevant = new bool[grid.Length];
        MapRendering.TopFractionMask(grid, fraction, mostRelevant);
        var negated = new float[grid.Length];
        for (int i = 0; i < grid.Length; i++) negated[i] = -grid[i];
        var leastRelevant = new bool[grid.Length];
        MapRendering.TopFractionMask(negated, fraction, leastRelevant);

        Array[] masked = [PatchMasking.Blacken(prepared.Pixels, mostRelevant, Model), PatchMasking.Blacken(prepared.Pixels, leastRelevant, Model)];
        var results = await _forwardBatcher.RunAsync(masked, cancel).ConfigureAwait(false);
        return new FaithfulnessResult(fraction, probability,
            Score(results[0].Value.Logits, target).Probability, Score(results[1].Value.Logits, target).Probability);
    }

    private int ResolveTopK(int? topK)
    {
        if (topK < 1) throw EngineException.Invalid(ErrorReasons.TopKOutOfRange, "top_k", $"top_k must be 1 or more, got {topK}.");
        return Math.Min(topK ?? 5, Model.NumClasses);
    }

    private IReadOnlyList<ClassScore> Differential(double[] logits, int k)
    {
        var order = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).Take(k);
        return order.Select(i => Score(logits, i)).ToArray();
    }

    private ClassScore Score(double[] logits, int index)
    {
        double max = logits.Max(), sum = 0;
        foreach (double l in logits) sum += Math.Exp(l - max);
        return new ClassScore(index, Model.Labels[index], (float)(Math.Exp(logits[index] - max) / sum), (float)logits[index]);
    }

    private static void AddBatchTimes(StageTimings timings, Batched<RowOutputs> row)
    {
        timings.QueueMs += row.QueueMs;
        timings.InferenceMs += row.InferenceMs;
    }

    private RowOutputs[] RunFull(IReadOnlyList<FullRow> rows, CancellationToken abandoned)
    {
        var fetch = ContractTensors.None;
        var targets = new long[rows.Count];
        var pixels = new Array[rows.Count];
        for (int i = 0; i < rows.Count; i++) { fetch |= rows[i].Fetch; targets[i] = rows[i].Target; pixels[i] = rows[i].Pixels; }
        return _full.Run(Concat(pixels), rows.Count, Model.ImageSize, targets, fetch, abandoned);
    }

    /// <summary>Logits for one batch on the forward-only graph (the batcher's worker; offline evaluation calls it directly).</summary>
    internal RowOutputs[] RunForward(IReadOnlyList<Array> rows, CancellationToken abandoned = default)
    {
        var targets = new long[rows.Count];
        Array.Fill(targets, -1L);
        return (_forwardGraph ?? _full).Run(Concat(rows), rows.Count, Model.ImageSize, targets, ContractTensors.None, abandoned);
    }

    /// <summary>Raw outputs for one batch, bypassing the batcher (tests compare them with golden tensors).</summary>
    internal RowOutputs[] RunFullGraph(IReadOnlyList<Array> pixels, long[] targets, ContractTensors fetch) =>
        _full.Run(Concat(pixels), pixels.Count, Model.ImageSize, targets, fetch);

    private Array Concat(IReadOnlyList<Array> rows)
    {
        int size = rows[0].Length;
        if (Model.IsFloat64)
        {
            var all = new double[rows.Count * size];
            for (int i = 0; i < rows.Count; i++) ((double[])rows[i]).CopyTo(all, i * size);
            return all;
        }
        var floats = new float[rows.Count * size];
        for (int i = 0; i < rows.Count; i++) ((float[])rows[i]).CopyTo(floats, i * size);
        return floats;
    }

    private void ReportBatch(string graph, int rows, double inferenceMs, int queueDepth)
    {
        BatchesRun++;
        LargestBatch = Math.Max(LargestBatch, rows);
        try { Options.OnBatch?.Invoke(new BatchReport(graph, rows, inferenceMs, queueDepth)); }
        catch (Exception e) { _logger.LogWarning(e, "Batch observer failed"); }
    }

    /// <summary>Finishes queued work, then releases the ONNX Runtime sessions.</summary>
    public async ValueTask DisposeAsync()
    {
        await _fullBatcher.DisposeAsync().ConfigureAwait(false);
        await _forwardBatcher.DisposeAsync().ConfigureAwait(false);
        _full.Dispose();
        _forwardGraph?.Dispose();
    }
}
