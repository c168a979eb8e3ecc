using System.Diagnostics;
using Dermxai.Attribution;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dermxai.Engine;

/// <summary>
/// The explain engine without any server: loads a model's file set once (full graph plus its gradient and
/// forward siblings where present, see <see cref="GraphSet"/>), decodes and preprocesses photos, batches
/// concurrent requests through ONNX Runtime (CUDA or CPU) on the cheapest graph that serves them and turns
/// the graph outputs into relevance maps and PNGs. Thread-safe; create one per model and dispose it when
/// done. Refusals throw <see cref="EngineException"/>.
/// </summary>
public sealed class DermxaiEngine : IAsyncDisposable
{
    private readonly GraphSet _graphs;
    private readonly Dictionary<OnnxGraph, DynamicBatcher<GraphJob, JobOutputs>> _batchers = [];
    private readonly ImageIntake _intake;
    private readonly ILogger _logger;

    private DermxaiEngine(EngineOptions options, GraphSet graphs, ModelDescription model, string device, ILogger logger)
    {
        Options = options;
        Model = model;
        Device = device;
        _graphs = graphs;
        _logger = logger;
        _intake = new ImageIntake(options.ImageLimits, model);
        foreach (var graph in graphs.ByCost)
        {
            _batchers[graph] = new DynamicBatcher<GraphJob, JobOutputs>(
                (jobs, abandoned) => graph.Run(GraphBatch.Build(jobs, graph, options.OneImagePerTargetRow, model.IsFloat64), model.ImageSize, abandoned),
                options.MaxBatchSize, options.MaxQueueDelay, options.MaxQueueSize,
                (rows, ms, depth) => ReportBatch(graph.Name, rows, ms, depth), job => job.Rows);
        }
    }

    public EngineOptions Options { get; }
    public ModelDescription Model { get; }
    /// <summary>"cuda" or "cpu": where the full graph runs.</summary>
    public string Device { get; }

    internal int LargestBatch { get; private set; }
    internal int BatchesRun { get; private set; }

    /// <summary>The graph ("full", "gradient" or "forward") a request for these methods runs on.</summary>
    internal string GraphFor(IReadOnlyList<RelevanceMethod> methods) => _graphs.Route(methods).Name;

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
        var (graphs, model, device) = GraphSet.Load(path, options,
            full => ModelDescription.Parse(path, full.Metadata, sha, full.TokenDimension()), logger);
        logger.LogInformation(
            "Loaded model {Model} (sha256 {Sha}, {Architecture}, {Classes} classes, {DType}) on {Device} in {Ms:F0} ms; graphs: {Graphs}; target_image: {TargetImage}",
            path, sha, model.Architecture, model.NumClasses, model.DType, device, clock.Elapsed.TotalMilliseconds,
            string.Join(", ", graphs.ByCost.Select(g => g.Name)), graphs.Full.TakesTargetImage ? "yes" : "no (one row per target)");
        return new DermxaiEngine(options, graphs, model, device, logger);
    }

    /// <summary>The differential: top-k classes with probabilities (forward graph only).</summary>
    public async Task<ClassifyResult> ClassifyAsync(ImageSource image, int? topK = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        int k = ResolveTopK(topK);
        _batchers[_graphs.Classifier].ThrowIfFull(1);
        var timings = new StageTimings();
        var (prepared, reservation) = await _intake.PrepareAsync(image, timings, cancel).ConfigureAwait(false);
        prepared.Photo.Dispose();   // only the model's tensor goes on: the photo's pixels are returned now
        reservation?.Dispose();
        var logits = await ClassifyAsync(prepared.Pixels, timings, cancel).ConfigureAwait(false);
        timings.TotalMs = clock.Elapsed.TotalMilliseconds;
        return new ClassifyResult(ClassScores.Differential(logits, k, Model), timings);
    }

    private async Task<double[]> ClassifyAsync(Array pixels, StageTimings timings, CancellationToken cancel)
    {
        var row = (await _batchers[_graphs.Classifier].RunAsync([new GraphJob(pixels, [], [])], cancel).ConfigureAwait(false))[0];
        AddBatchTimes(timings, row);
        return row.Value.Logits;
    }

    /// <summary>
    /// Refuses method and target lists longer than the model could use (INVALID_ARGUMENT naming the list
    /// and its limit); callers that map wire messages check before building the lists.
    /// </summary>
    public void CheckListSizes(int methods, int targets) => ExplainPlan.CheckCounts(methods, targets, Model);

    /// <summary>
    /// The differential plus one map per (method, target) pair: methods outer, targets inner. One run of
    /// the routed graph explains all targets (R target rows over one forward pass of the photo). A graph
    /// that ranks (<see cref="OnnxGraph.RanksTargets"/>) resolves top-k and predicted targets in that run
    /// (rows −1 … −k); on one that does not, a top-k target first asks the forward graph for the ranking.
    /// </summary>
    public async Task<ExplainResult> ExplainAsync(ImageSource image, ExplainOptions options, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var plan = ExplainPlan.Validate(options, Model);
        int k = ResolveTopK(options.TopK);
        var graph = _graphs.Route(plan.Methods);
        _batchers[graph].ThrowIfFull(1);
        var timings = new StageTimings();
        var (prepared, reservation) = await _intake.PrepareAsync(image, timings, cancel).ConfigureAwait(false);
        using var photoPixels = reservation;
        using var photo = prepared.Photo;

        var rankRows = graph.RanksTargets && !Options.RankBeforeRun && plan.AnyClassSpecific ? plan.RankRowTargets(Model) : null;
        var ranking = plan.HasTopK && plan.AnyClassSpecific && graph.TakesTargets && rankRows is null
            ? await ClassifyAsync(prepared.Pixels, timings, cancel).ConfigureAwait(false)
            : null;
        var rows = !graph.TakesTargets ? [] : rankRows ?? (plan.AnyClassSpecific ? plan.RowTargets(ranking, Model) : [-1L]);
        var outputs = plan.Methods.SelectMany(m => GraphMaps.OutputsFor(m, graph.ReducedHeads)).Distinct().ToArray();
        var run = (await _batchers[graph].RunAsync([new GraphJob(prepared.Pixels, rows.ToArray(), outputs)], cancel).ConfigureAwait(false))[0];
        AddBatchTimes(timings, run);
        cancel.ThrowIfCancellationRequested();

        var job = run.Value;
        var targets = rankRows is not null
            ? plan.ResolveTargets(rows, job.Targets, Model)
            : plan.ResolveTargets(ranking ?? job.Logits, ExplainPlan.Predicted(rows, job.Targets, job.Logits, ranking), Model);
        var explanations = new List<Explanation>();
        foreach (var method in plan.Methods)
        {
            int startLayer = method.UsesStartLayer() ? plan.StartLayer : 0;
            var attributionClock = Stopwatch.StartNew();
            var grids = GraphMaps.Compute(method, job, Model, graph.ReducedHeads, startLayer);
            double attributionMs = attributionClock.Elapsed.TotalMilliseconds / targets.Count;
            foreach (long target in targets)
            {
                int row = method.IsClassSpecific() ? Array.IndexOf(job.Targets, target) : 0;
                if (row < 0) throw new InvalidOperationException($"No target row explains class {target}.");
                var grid = grids.AsSpan(row * Model.GridSize * Model.GridSize, Model.GridSize * Model.GridSize).ToArray();
                cancel.ThrowIfCancellationRequested();
                explanations.Add(await ExplainOneAsync(method, (int)target, grid, attributionMs, startLayer, job.Logits, prepared, plan, cancel)
                    .ConfigureAwait(false));
            }
        }
        foreach (var e in explanations) { timings.AttributionMs += e.AttributionMs; timings.RenderMs += e.RenderMs; }
        timings.TotalMs = clock.Elapsed.TotalMilliseconds;
        return new ExplainResult(ClassScores.Differential(job.Logits, k, Model), explanations, prepared.Photo.Width, prepared.Photo.Height, timings);
    }

    private async Task<Explanation> ExplainOneAsync(RelevanceMethod method, int target, float[] grid, double attributionMs, int startLayer,
        double[] logits, PreparedImage prepared, ExplainPlan request, CancellationToken cancel)
    {
        int g = Model.GridSize;
        var clock = Stopwatch.StartNew();
        var (heatmap, overlay) = OverlayRenderer.Render(grid, g, prepared.Photo, prepared.Crop, request.Colormap,
            request.OverlayAlpha, request.HeatmapPng, request.OverlayPng);
        double renderMs = clock.Elapsed.TotalMilliseconds;

        var score = ClassScores.Score(logits, target, Model);
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

        GraphJob[] masked =
        [
            new(PatchMasking.Blacken(prepared.Pixels, mostRelevant, Model), [], []),
            new(PatchMasking.Blacken(prepared.Pixels, leastRelevant, Model), [], []),
        ];
        var results = await _batchers[_graphs.Classifier].RunAsync(masked, cancel).ConfigureAwait(false);
        return new FaithfulnessResult(fraction, probability,
            ClassScores.Score(results[0].Value.Logits, target, Model).Probability,
            ClassScores.Score(results[1].Value.Logits, target, Model).Probability);
    }

    private int ResolveTopK(int? topK)
    {
        if (topK < 1) throw EngineException.Invalid(ErrorReasons.TopKOutOfRange, "top_k", $"top_k must be 1 or more, got {topK}.");
        return Math.Min(topK ?? 5, Model.NumClasses);
    }

    private static void AddBatchTimes(StageTimings timings, Batched<JobOutputs> row)
    {
        timings.QueueMs += row.QueueMs;
        timings.InferenceMs += row.InferenceMs;
    }

    /// <summary>Logits for one batch on the classifier graph, bypassing the batcher (offline evaluation).</summary>
    internal RowOutputs[] RunForward(IReadOnlyList<Array> rows, CancellationToken abandoned = default) =>
        RunDirect(_graphs.Classifier, rows.Select(pixels => new GraphJob(pixels, [], [])).ToArray(), abandoned);

    /// <summary>Contract-v1 outputs of the full graph, one row per image, bypassing the batcher (golden tests, evaluation).</summary>
    internal RowOutputs[] RunFullGraph(IReadOnlyList<Array> pixels, long[] targets, ContractTensors fetch)
    {
        var outputs = GraphMaps.ContractOutputs(fetch);
        return RunDirect(_graphs.Full, pixels.Select((p, i) => new GraphJob(p, [targets[i]], outputs)).ToArray(), default);
    }

    /// <summary>
    /// One full-graph run over the batch (one target row per image), bypassing the batcher, and each row's
    /// maps for <paramref name="methods"/> in their order, read as an Explain call reads them (evaluation).
    /// </summary>
    internal (JobOutputs Job, float[][] Grids)[] ExplainDirect(IReadOnlyList<Array> pixels, long[] targets,
        IReadOnlyList<RelevanceMethod> methods, int startLayer)
    {
        var graph = _graphs.Full;
        var outputs = methods.SelectMany(m => GraphMaps.OutputsFor(m, graph.ReducedHeads)).Distinct().ToArray();
        var jobs = pixels.Select((p, i) => new GraphJob(p, [targets[i]], outputs)).ToArray();
        return graph.Run(GraphBatch.Build(jobs, graph, Options.OneImagePerTargetRow, Model.IsFloat64), Model.ImageSize)
            .Select(job => (job, methods.Select(m => GraphMaps.Compute(m, job, Model, graph.ReducedHeads, startLayer)).ToArray()))
            .ToArray();
    }

    private RowOutputs[] RunDirect(OnnxGraph graph, GraphJob[] jobs, CancellationToken abandoned) =>
        graph.Run(GraphBatch.Build(jobs, graph, Options.OneImagePerTargetRow, Model.IsFloat64), Model.ImageSize, abandoned)
            .Select(RowOutputs.From).ToArray();

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
        foreach (var batcher in _batchers.Values) await batcher.DisposeAsync().ConfigureAwait(false);
        _graphs.Dispose();
    }
}
