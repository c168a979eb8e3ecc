using System.Diagnostics;
using System.Numerics.Tensors;
using Dermxai.Attribution;
using Dermxai.Engine;

namespace Dermxai.Evaluation;

/// <summary>What `dermxai-evaluate` measures and how.</summary>
public sealed record EvaluationSettings
{
    /// <summary>A synthetic-set folder (manifest.json), an ISIC-style CSV, or a folder holding one.</summary>
    public required string DataPath { get; init; }
    /// <summary>Method ids; empty means every served method.</summary>
    public IReadOnlyList<string> Methods { get; init; } = [];
    /// <summary>First block of the rollout methods; the paper's evaluations use 1.</summary>
    public int StartLayer { get; init; } = 1;
    /// <summary>Evaluate only the first N images (0 = all).</summary>
    public int Limit { get; init; }
    /// <summary>Images per run of the full (gradient + LRP) graph.</summary>
    public int BatchSize { get; init; } = 8;
    /// <summary>Perturbed images per run of the forward-only graph.</summary>
    public int ForwardBatchSize { get; init; } = 64;
    /// <summary>Run the perturbation test (many forward passes: 18 per image and method).</summary>
    public bool Perturbation { get; init; } = true;
    /// <summary>Also perturb by the labelled class's map (the paper's "Target" rows).</summary>
    public bool TargetClass { get; init; } = true;
    /// <summary>
    /// Explain this class (a label) in every image instead of the predicted one, e.g. a suspected
    /// shortcut class; localisation and perturbation then score that class's maps.
    /// </summary>
    public string? ExplainClass { get; init; }
}

/// <summary>Images finished so far, of how many.</summary>
public readonly record struct EvaluationProgress(int Done, int Total);

/// <summary>
/// Runs the localisation and perturbation tests (docs/methods.md#perturbation-test and #localisation-metrics) over a labelled data set with the
/// engine in process (no server): the full graph explains batches of images, the forward-only graph
/// classifies the perturbed copies.
/// </summary>
public static class MapEvaluator
{
    public static async Task<EvaluationReport> RunAsync(DermxaiEngine engine, EvaluationSettings settings,
        IProgress<EvaluationProgress>? progress = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var model = engine.Model;
        var methods = ParseMethods(settings.Methods);
        if (settings.StartLayer < 0 || settings.StartLayer >= model.NumLayers)
            throw new ArgumentException($"start layer {settings.StartLayer} is out of range; this model has {model.NumLayers} layers (0 to {model.NumLayers - 1}).");
        if (settings.BatchSize < 1 || settings.ForwardBatchSize < 1)
            throw new ArgumentException("batch sizes must be at least 1.");
        var dataset = EvaluationDataset.Load(settings.DataPath, model.Labels);
        var items = settings.Limit > 0 ? dataset.Items.Take(settings.Limit).ToArray() : dataset.Items.ToArray();
        if (items.Length == 0) throw new InvalidDataException($"The data set {dataset.Root} has no images.");

        var run = new EvaluationRun(engine, methods, settings);
        var images = new List<ImageEvaluation>();
        for (int first = 0; first < items.Length; first += settings.BatchSize)
        {
            cancel.ThrowIfCancellationRequested();
            var batch = items.AsSpan(first, Math.Min(settings.BatchSize, items.Length - first)).ToArray();
            images.AddRange(await Task.Run(() => run.EvaluateBatch(batch, cancel), cancel).ConfigureAwait(false));
            progress?.Report(new EvaluationProgress(first + batch.Length, items.Length));
        }
        return EvaluationSummary.Build(engine, dataset, settings, methods, images, run.Skipped, clock.Elapsed.TotalSeconds);
    }

    internal static IReadOnlyList<RelevanceMethod> ParseMethods(IReadOnlyList<string> ids)
    {
        if (ids.Count == 0) return RelevanceMethods.All;
        var methods = new List<RelevanceMethod>();
        foreach (string id in ids)
        {
            if (!RelevanceMethods.TryParse(id, out var method))
                throw new ArgumentException($"Unknown method '{id}'; use one of {string.Join(", ", RelevanceMethods.All.Select(m => m.Id()))}.");
            if (!methods.Contains(method)) methods.Add(method);
        }
        return methods;
    }
}

/// <summary>The per-batch work of one evaluation: prepare, explain, score, perturb.</summary>
internal sealed class EvaluationRun(DermxaiEngine engine, IReadOnlyList<RelevanceMethod> methods, EvaluationSettings settings)
{
    private readonly ModelDescription _model = engine.Model;
    /// <summary>The class the maps explain: -1 (each image's argmax) unless the settings name one.</summary>
    private readonly int _explained = settings.ExplainClass is null ? -1 : EvaluationDataset.LabelIndex(settings.ExplainClass, engine.Model.Labels, "--explain-class");

    /// <summary>Images that could not be read, with the reason.</summary>
    public List<string> Skipped { get; } = [];

    private sealed record PreparedItem(EvaluationItem Item, PreparedPhoto Image, CroppedMasks Masks);

    /// <summary>One image's upsampled S×S maps: for the predicted class, and for the label where it differs.</summary>
    private sealed record ImageMaps(Dictionary<RelevanceMethod, float[]> Predicted, Dictionary<RelevanceMethod, float[]> Target);

    internal IReadOnlyList<ImageEvaluation> EvaluateBatch(EvaluationItem[] items, CancellationToken cancel)
    {
        var prepared = items.Select(item => TryPrepare(item, cancel)).OfType<PreparedItem>().ToArray();
        if (prepared.Length == 0) return [];
        var predictedRows = engine.ExplainBatch(prepared.Select(p => p.Image.Pixels).ToArray(),
            Enumerable.Repeat(_explained, prepared.Length).ToArray(), methods, settings.StartLayer);
        var maps = prepared.Select(_ => new ImageMaps([], [])).ToArray();
        for (int i = 0; i < prepared.Length; i++)
            foreach (var method in methods) maps[i].Predicted[method] = Upsampled(predictedRows[i].Grids[method]);
        AddTargetMaps(prepared, predictedRows, maps);
        cancel.ThrowIfCancellationRequested();

        var outcomes = settings.Perturbation ? Perturb(prepared, predictedRows, maps, cancel) : null;
        var results = new ImageEvaluation[prepared.Length];
        for (int i = 0; i < prepared.Length; i++)
        {
            var scores = new Dictionary<RelevanceMethod, MethodImageScores>();
            foreach (var method in methods)
            {
                var localisation = prepared[i].Masks.Lesion is null && prepared[i].Masks.Artifact is null
                    ? null
                    : LocalisationMetrics.Score(maps[i].Predicted[method], prepared[i].Masks);
                scores[method] = new MethodImageScores(localisation, outcomes?[i][method] ?? []);
            }
            results[i] = new ImageEvaluation(prepared[i].Item, ArgMax(predictedRows[i].Logits), scores);
        }
        return results;
    }

    private PreparedItem? TryPrepare(EvaluationItem item, CancellationToken cancel)
    {
        try
        {
            var image = engine.Prepare(File.ReadAllBytes(item.ImagePath), cancel);
            return new PreparedItem(item, image, CroppedMasks.Load(item, image, _model.ImageSize));
        }
        catch (Exception e) when (e is EngineException or IOException or InvalidDataException or InvalidOperationException
                                      or SixLabors.ImageSharp.ImageFormatException or UnauthorizedAccessException)
        {
            lock (Skipped) Skipped.Add($"{item.Name}: {e.Message}");
            return null;
        }
    }

    /// <summary>Class-specific maps for the labelled class of the misclassified images (one more full-graph run).</summary>
    private void AddTargetMaps(PreparedItem[] prepared, BatchMaps[] predictedRows, ImageMaps[] maps)
    {
        var classSpecific = methods.Where(m => m.IsClassSpecific()).ToArray();
        // Images whose maps explain another class than the label (misclassified, or --explain-class).
        var wrong = Enumerable.Range(0, prepared.Length).Where(i => predictedRows[i].Target != prepared[i].Item.Label).ToArray();
        if (!settings.Perturbation || !settings.TargetClass || classSpecific.Length == 0 || wrong.Length == 0) return;
        var rows = engine.ExplainBatch(wrong.Select(i => prepared[i].Image.Pixels).ToArray(),
            wrong.Select(i => prepared[i].Item.Label).ToArray(), classSpecific, settings.StartLayer);
        for (int j = 0; j < wrong.Length; j++)
            foreach (var method in classSpecific) maps[wrong[j]].Target[method] = Upsampled(rows[j].Grids[method]);
    }

    private float[] Upsampled(float[] grid)
    {
        int g = _model.GridSize, s = _model.ImageSize;
        var upsampled = new float[s * s];
        MapRendering.UpsampleBilinear(grid, g, g, upsampled, s, s);
        return upsampled;
    }

    private static int ArgMax(double[] logits) => TensorPrimitives.IndexOfMax(logits);

    /// <summary>One curve to measure: the image, the map's removal order, and where its results go.</summary>
    private sealed record Curve(int Image, int[] Order, bool[] Correct, int[] Predicted);

    /// <summary>Per image and method, the curves; perturbed copies run through the forward graph in batches.</summary>
    private Dictionary<RelevanceMethod, IReadOnlyList<PerturbationOutcome>>[] Perturb(
        PreparedItem[] prepared, BatchMaps[] predictedRows, ImageMaps[] maps, CancellationToken cancel)
    {
        var curves = new List<Curve>();
        var outcomes = new Dictionary<RelevanceMethod, IReadOnlyList<PerturbationOutcome>>[prepared.Length];
        for (int i = 0; i < prepared.Length; i++)
        {
            outcomes[i] = [];
            foreach (var method in methods)
            {
                var list = new List<PerturbationOutcome>();
                foreach (var mode in Enum.GetValues<PerturbationMode>())
                {
                    var predicted = NewCurve(i, maps[i].Predicted[method], mode, predictedRows[i], prepared[i].Item.Label, curves);
                    list.Add(new PerturbationOutcome(mode, ExplainedClass.Predicted, predicted.Correct, predicted.Predicted));
                    if (!settings.TargetClass) continue;
                    // Same map for the label (class-agnostic method or correct prediction): same curve.
                    var target = maps[i].Target.TryGetValue(method, out var targetMap)
                        ? NewCurve(i, targetMap, mode, predictedRows[i], prepared[i].Item.Label, curves)
                        : predicted;
                    list.Add(new PerturbationOutcome(mode, ExplainedClass.Target, target.Correct, target.Predicted));
                }
                outcomes[i][method] = list;
            }
        }
        RunCurves(prepared, curves, cancel);
        return outcomes;
    }

    private static Curve NewCurve(int image, float[] map, PerturbationMode mode, BatchMaps clean, int label, List<Curve> curves)
    {
        var curve = new Curve(image, PerturbationTest.RemovalOrder(map, mode), new bool[PerturbationTest.Steps], new int[PerturbationTest.Steps]);
        curve.Predicted[0] = ArgMax(clean.Logits);
        curve.Correct[0] = curve.Predicted[0] == label;
        curves.Add(curve);
        return curve;
    }

    private void RunCurves(PreparedItem[] prepared, List<Curve> curves, CancellationToken cancel)
    {
        int pixels = _model.ImageSize * _model.ImageSize;
        var jobs = new List<(Curve Curve, int Step)>();
        foreach (var curve in curves)
            for (int step = 1; step < PerturbationTest.Steps; step++) jobs.Add((curve, step));
        for (int first = 0; first < jobs.Count; first += settings.ForwardBatchSize)
        {
            cancel.ThrowIfCancellationRequested();
            var chunk = jobs.GetRange(first, Math.Min(settings.ForwardBatchSize, jobs.Count - first));
            var inputs = chunk.Select(job => PerturbationTest.RemovePixels(prepared[job.Curve.Image].Image.Pixels, job.Curve.Order,
                PerturbationTest.PixelsRemoved(pixels, job.Step), _model)).ToArray();
            var logits = engine.ClassifyBatch(inputs);
            for (int j = 0; j < chunk.Count; j++)
            {
                var (curve, step) = chunk[j];
                curve.Predicted[step] = ArgMax(logits[j]);
                curve.Correct[step] = curve.Predicted[step] == prepared[curve.Image].Item.Label;
            }
        }
    }
}
