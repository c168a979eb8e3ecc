using Dermxai.Attribution;

namespace Dermxai.Engine;

/// <summary>An Explain request checked against the model: every refusal happens here, before any work.</summary>
internal sealed class ExplainPlan
{
    public required IReadOnlyList<RelevanceMethod> Methods { get; init; }
    public required IReadOnlyList<TargetRequest> Targets { get; init; }
    public required int StartLayer { get; init; }
    public required Colormap Colormap { get; init; }
    public required float OverlayAlpha { get; init; }
    public required bool HeatmapPng { get; init; }
    public required bool OverlayPng { get; init; }
    public required float FaithfulnessFraction { get; init; }

    /// <summary>The most method ids and targets one request may name (the proto's documented limits).</summary>
    internal const int MaxMethods = 16, MaxTargets = 64;

    /// <summary>A top-k target needs the ranking before the rows that explain it can be built.</summary>
    public bool HasTopK => Targets.Any(t => t.Kind == TargetKind.TopK);

    public bool AnyClassSpecific => Methods.Any(m => m.IsClassSpecific());

    internal static ExplainPlan Validate(ExplainOptions options, ModelDescription model)
    {
        CheckCounts(options.Methods.Count, options.Targets.Count, model);
        var targets = options.Targets.Count == 0 ? [TargetRequest.Predicted] : options.Targets;
        if (targets.Count > MaxTargets)
            throw EngineException.Invalid(ErrorReasons.TooManyItems, "targets", $"At most {MaxTargets} targets are accepted, got {targets.Count}.");
        for (int i = 0; i < targets.Count; i++) CheckTarget(targets[i], i, model);
        return new ExplainPlan
        {
            Methods = ParseMethods(options.Methods),
            Targets = targets,
            StartLayer = CheckStartLayer(options.StartLayer ?? 0, model),
            Colormap = ParseColormap(options.Colormap),
            OverlayAlpha = CheckAlpha(options.OverlayAlpha),
            HeatmapPng = options.HeatmapPng,
            OverlayPng = options.OverlayPng,
            FaithfulnessFraction = CheckFraction(options.FaithfulnessFraction),
        };
    }

    /// <summary>
    /// A request names each method and each class at most once: longer lists are refused before any of
    /// their entries is looked at, so a 10,000-entry list costs nothing but this comparison.
    /// </summary>
    internal static void CheckCounts(int methods, int targets, ModelDescription model)
    {
        int knownMethods = RelevanceMethods.All.Count;
        if (methods > knownMethods)
            throw EngineException.Invalid(ErrorReasons.TooManyItems, "methods",
                $"methods has {methods} entries; at most {knownMethods} (the number of methods) are allowed.");
        if (targets > model.NumClasses)
            throw EngineException.Invalid(ErrorReasons.TooManyItems, "targets",
                $"targets has {targets} entries; at most {model.NumClasses} (the model's classes) are allowed.");
    }

    /// <summary>
    /// The target rows of the explaining run: class indices in request order without duplicates, -1 for
    /// the predicted class where no ranking is known (the graph resolves the argmax in the same run).
    /// Top-k targets need <paramref name="ranking"/>.
    /// </summary>
    internal IReadOnlyList<long> RowTargets(double[]? ranking, ModelDescription model)
    {
        var order = ranking is null ? null : Ranking(ranking);
        return Classes(order, order?[0] ?? -1, model);
    }

    /// <summary>
    /// The target rows for a graph that ranks: rank r is the row −r, resolved in the run. Rank rows cannot
    /// be merged with the explicit classes they may turn out to equal, so where they would make more rows
    /// than the model has classes this is null and a ranking run first keeps the request at C rows.
    /// </summary>
    internal IReadOnlyList<long>? RankRowTargets(ModelDescription model)
    {
        var rows = Classes(Enumerable.Range(1, model.NumClasses).Select(rank => -(long)rank).ToArray(), -1, model);
        return rows.Count <= model.NumClasses ? rows : null;
    }

    /// <summary>Class indices to explain, in request order without duplicates, given the ranking logits and the predicted class.</summary>
    internal IReadOnlyList<long> ResolveTargets(double[] logits, long predicted, ModelDescription model) =>
        Classes(Ranking(logits), predicted, model);

    /// <summary>The same from a ranking graph's run: row −r of <paramref name="rows"/> was resolved to its image's r-th class.</summary>
    internal IReadOnlyList<long> ResolveTargets(IReadOnlyList<long> rows, long[] resolved, ModelDescription model)
    {
        var byRank = new List<long>();
        for (int row; (row = IndexOf(rows, -(byRank.Count + 1))) >= 0;) byRank.Add(resolved[row]);
        return Classes(byRank, byRank.Count > 0 ? byRank[0] : -1, model);
    }

    /// <summary>The predicted class: the ranking's first, else what the run resolved row −1 to, else the run's argmax.</summary>
    internal static long Predicted(IReadOnlyList<long> rows, long[] resolved, double[] logits, double[]? ranking)
    {
        int predictedRow = IndexOf(rows, -1);
        return ranking is not null ? OnnxGraph.ArgMax(ranking) : predictedRow >= 0 ? resolved[predictedRow] : OnnxGraph.ArgMax(logits);
    }

    private static int IndexOf(IReadOnlyList<long> rows, long value)
    {
        for (int i = 0; i < rows.Count; i++) if (rows[i] == value) return i;
        return -1;
    }

    private List<long> Classes(IReadOnlyList<long>? ranking, long predicted, ModelDescription model)
    {
        var classes = new List<long>();
        void Add(long index) { if (!classes.Contains(index)) classes.Add(index); }
        foreach (var target in Targets)
        {
            switch (target.Kind)
            {
                case TargetKind.Predicted: Add(predicted); break;
                case TargetKind.TopK: foreach (long i in ranking!.Take(target.Value)) Add(i); break;
                default: Add(IndexOf(target, model)); break;
            }
        }
        return classes;
    }

    /// <summary>Classes by logit, highest first; equal logits keep the lower class first (as ONNX TopK ranks).</summary>
    private static long[] Ranking(double[] logits) => Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).Select(i => (long)i).ToArray();

    private static int IndexOf(TargetRequest target, ModelDescription model) =>
        target.Kind == TargetKind.ClassLabel ? IndexOfLabel(target.Label!, model) : target.Value;

    private static int IndexOfLabel(string label, ModelDescription model)
    {
        for (int i = 0; i < model.Labels.Count; i++) if (model.Labels[i] == label) return i;
        return -1;
    }

    private static void CheckTarget(TargetRequest target, int i, ModelDescription model)
    {
        int classes = model.NumClasses;
        switch (target.Kind)
        {
            case TargetKind.TopK when target.Value < 1 || target.Value > classes:
                throw EngineException.Invalid(ErrorReasons.TopClassesOutOfRange, $"targets[{i}].top_classes", $"A top_classes target must be between 1 and {classes} (the model's classes), got {target.Value}.");
            case TargetKind.ClassIndex when target.Value < 0 || target.Value >= classes:
                throw EngineException.Invalid(ErrorReasons.ClassOutOfRange, $"targets[{i}].class_index", $"Class index {target.Value} is out of range; this model has {classes} classes (0 to {classes - 1}).");
            case TargetKind.ClassLabel when IndexOfLabel(target.Label ?? "", model) < 0:
                throw EngineException.Invalid(ErrorReasons.UnknownClassLabel, $"targets[{i}].class_label", $"Unknown class label {ClientText.Quote(target.Label)}; GetModelInfo lists the model's labels.");
        }
    }

    private static IReadOnlyList<RelevanceMethod> ParseMethods(IReadOnlyList<string> ids)
    {
        if (ids.Count == 0) return [RelevanceMethods.Default];
        if (ids.Count > MaxMethods)
            throw EngineException.Invalid(ErrorReasons.TooManyItems, "methods", $"At most {MaxMethods} methods are accepted, got {ids.Count}.");
        var methods = new List<RelevanceMethod>();
        for (int i = 0; i < ids.Count; i++)
        {
            string id = ids[i];
            if (!RelevanceMethods.TryParse(id, out var method))
                throw EngineException.Invalid(ErrorReasons.UnknownMethod, $"methods[{i}]",
                    $"Unknown method {ClientText.Quote(id)}; use one of {RelevanceMethods.IdList}.");
            if (!methods.Contains(method)) methods.Add(method);
        }
        return methods;
    }

    private static int CheckStartLayer(int startLayer, ModelDescription model) =>
        startLayer >= 0 && startLayer < model.NumLayers
            ? startLayer
            : throw EngineException.Invalid(ErrorReasons.StartLayerOutOfRange, "start_layer",
                $"start_layer {startLayer} is out of range; this model has {model.NumLayers} layers (0 to {model.NumLayers - 1}).");

    private static Colormap ParseColormap(string? name) => (name ?? "").Trim().ToLowerInvariant() switch
    {
        "" or "jet" => Colormap.Jet,
        "turbo" => Colormap.Turbo,
        "viridis" => Colormap.Viridis,
        _ => throw EngineException.Invalid(ErrorReasons.UnknownColormap, "outputs.colormap", $"Unknown colormap {ClientText.Quote(name)}; use jet, turbo or viridis."),
    };

    private static float CheckAlpha(float? alpha)
    {
        if (alpha is not { } a) return 0.5f;
        return a > 0 && a <= 1 ? a
            : throw EngineException.Invalid(ErrorReasons.OverlayAlphaOutOfRange, "outputs.overlay_alpha", $"overlay_alpha must be in (0, 1], got {alpha}.");
    }

    /// <summary>0 in the plan means no check (the option was unset).</summary>
    private static float CheckFraction(float? fraction) => fraction switch
    {
        null => 0,
        > 0 and < 1 => fraction.Value,
        _ => throw EngineException.Invalid(ErrorReasons.FaithfulnessFractionOutOfRange, "faithfulness_fraction",
            $"faithfulness_fraction must be in (0, 1), got {fraction}; leave it unset for no check."),
    };
}

/// <summary>Sets whole patches of a normalised [3, S, S] image to black (pixel value 0 before normalisation).</summary>
internal static class PatchMasking
{
    internal static Array Blacken(Array pixels, bool[] patchMask, ModelDescription model)
    {
        int s = model.ImageSize, p = model.PatchSize, g = model.GridSize;
        var result = (Array)pixels.Clone();
        for (int c = 0; c < 3; c++)
        {
            double black = (0 - model.Mean[c]) / model.Std[c];
            for (int patch = 0; patch < patchMask.Length; patch++)
            {
                if (!patchMask[patch]) continue;
                int row0 = patch / g * p, col0 = patch % g * p;
                for (int y = row0; y < row0 + p; y++)
                {
                    int offset = (c * s + y) * s + col0;
                    if (result is double[] d) d.AsSpan(offset, p).Fill(black);
                    else ((float[])result).AsSpan(offset, p).Fill((float)black);
                }
            }
        }
        return result;
    }
}
