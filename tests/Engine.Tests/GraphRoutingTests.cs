using System.Collections.Concurrent;
using Dermxai.Attribution;
using Dermxai.Engine;
using Dermxai.TestSupport;

namespace Dermxai.Tests;

/// <summary>
/// The graph set: each method on its cheapest graph gives the full graph's map, k targets of one photo
/// run as one request with k target rows and give the maps of k separate requests, and file sets of the
/// full graph alone are served as before.
/// </summary>
public sealed class GraphRoutingTests
{
    public static IEnumerable<TestCaseData> Models() =>
        from set in GoldenSet.ModelSetNames
        from dtype in new[] { "f32", "f64" }
        select new TestCaseData($"{set}_{dtype}").SetName($"{set}_{dtype}");

    private static ImageSource Photo(string model) =>
        ImageSource.FromEncoded(GoldenSet.Load(model[..model.LastIndexOf('_')]).Cases[0].ImageBytes());

    /// <summary>The contract's routing table where the file set has the lean graphs; the full graph otherwise.</summary>
    private static string ExpectedGraph(string model, RelevanceMethod method)
    {
        if (!File.Exists(Path.ChangeExtension(TestPaths.Model(model), ".gradient.onnx"))) return "full";
        return method.Id() switch
        {
            "raw_attention" or "attention_rollout" => "forward",
            "generic_attention" or "attention_gradcam" => "gradient",
            _ => "full",
        };
    }

    /// <summary>
    /// float64 graphs agree to the conformance tolerance; float32 LRP maps react to the last bit of their
    /// inputs (another batch shape, another graph's fusions), so 1e-3 of the map's largest value.
    /// </summary>
    private static void AssertSameMap(float[] actual, float[] expected, string model, string what)
    {
        float scale = expected.Max(Math.Abs);
        float tolerance = (model.EndsWith("f64") ? 1e-6f : 1e-3f) * scale;
        Assert.That(actual, Is.EqualTo(expected).Within(tolerance), what);
    }

    [TestCaseSource(nameof(Models))]
    public async Task EveryMethodOnItsRoutedGraphGivesTheFullGraphsMap(string model)
    {
        var routed = TestEngines.Get(model);
        var fullOnly = TestEngines.Get(model, EngineVariant.FullGraphOnly);
        foreach (var method in RelevanceMethods.All)
        {
            Assert.That(fullOnly.GraphFor([method]), Is.EqualTo("full"), method.Id());
            Assert.That(routed.GraphFor([method]), Is.EqualTo(ExpectedGraph(model, method)), method.Id());
            var options = new ExplainOptions { Methods = [method.Id()], StartLayer = method.UsesStartLayer() ? 1 : null };
            var lean = await routed.ExplainAsync(Photo(model), options);
            var full = await fullOnly.ExplainAsync(Photo(model), options);
            Assert.That(lean.Explanations.Single().Target.Index, Is.EqualTo(full.Explanations.Single().Target.Index), method.Id());
            AssertSameMap(lean.Explanations.Single().Grid, full.Explanations.Single().Grid, model, method.Id());
        }
        var classified = await fullOnly.ClassifyAsync(Photo(model), topK: 3);
        Assert.That(classified.Predictions.Select(p => p.Index),
            Is.EqualTo((await routed.ClassifyAsync(Photo(model), topK: 3)).Predictions.Select(p => p.Index)));
    }

    [TestCaseSource(nameof(Models))]
    public async Task ManyTargetsInOneRequestEqualOneRequestPerTarget(string model)
    {
        var engine = TestEngines.Get(model);
        var methods = RelevanceMethods.All.Select(m => m.Id()).ToArray();
        int lastClass = engine.Model.NumClasses - 1;
        var together = await engine.ExplainAsync(Photo(model), new ExplainOptions
        {
            Methods = methods,
            Targets = [TargetRequest.TopK(3), TargetRequest.ClassIndex(lastClass), TargetRequest.Predicted],
        });
        var targets = together.Explanations.Select(e => e.Target.Index).Distinct().ToArray();
        Assert.That(targets, Has.Length.EqualTo(together.Predictions.Take(3).Select(p => p.Index).Append(lastClass).Distinct().Count()));
        foreach (int target in targets)
        {
            var alone = await engine.ExplainAsync(Photo(model), new ExplainOptions { Methods = methods, Targets = [TargetRequest.ClassIndex(target)] });
            foreach (var expected in alone.Explanations)
            {
                var actual = together.Explanations.Single(e => e.Method == expected.Method && e.Target.Index == target);
                AssertSameMap(actual.Grid, expected.Grid, model, $"{expected.Method} class {target}");
            }
        }
    }

    [TestCaseSource(nameof(Models))]
    public async Task OneImageCopyPerTargetRowGivesTheSameMaps(string model)
    {
        var options = new ExplainOptions { Methods = RelevanceMethods.All.Select(m => m.Id()).ToArray(), Targets = [TargetRequest.TopK(2)] };
        var shared = await TestEngines.Get(model).ExplainAsync(Photo(model), options);
        var copies = await TestEngines.Get(model, EngineVariant.OneImagePerTargetRow).ExplainAsync(Photo(model), options);
        Assert.That(copies.Explanations.Select(e => (e.Method, e.Target.Index)), Is.EqualTo(shared.Explanations.Select(e => (e.Method, e.Target.Index))));
        for (int i = 0; i < shared.Explanations.Count; i++)
            AssertSameMap(copies.Explanations[i].Grid, shared.Explanations[i].Grid, model, $"{shared.Explanations[i].Method} #{i}");
    }

    [TestCaseSource(nameof(Models))]
    public async Task RanksResolvedInTheRunEqualARankingRunFirst(string model)
    {
        var options = new ExplainOptions
        {
            Methods = RelevanceMethods.All.Select(m => m.Id()).ToArray(),
            Targets = [TargetRequest.ClassIndex(1), TargetRequest.TopK(3), TargetRequest.Predicted],
        };
        var inRun = await TestEngines.Get(model).ExplainAsync(Photo(model), options);
        var rankedFirst = await TestEngines.Get(model, EngineVariant.RankBeforeRun).ExplainAsync(Photo(model), options);
        Assert.That(inRun.Explanations.Select(e => (e.Method, e.Target.Index)),
            Is.EqualTo(rankedFirst.Explanations.Select(e => (e.Method, e.Target.Index))));
        Assert.That(inRun.Explanations.Where(e => e.ClassSpecific).Select(e => e.Target.Index).Distinct(),
            Is.EqualTo(inRun.Predictions.Take(3).Select(p => p.Index).Prepend(1).Distinct()), "class 1, then the top 3");
        for (int i = 0; i < inRun.Explanations.Count; i++)
            AssertSameMap(inRun.Explanations[i].Grid, rankedFirst.Explanations[i].Grid, model, $"{inRun.Explanations[i].Method} #{i}");
    }

    [TestCase(false, new[] { "full" }, TestName = "KTargetsOfOnePhotoRunAsOneBatchWithKRows(graph ranks)")]
    [TestCase(true, new[] { "forward", "full" }, TestName = "KTargetsOfOnePhotoRunAsOneBatchWithKRows(ranking run first)")]
    public async Task KTargetsOfOnePhotoRunAsOneBatchWithKRows(bool rankBeforeRun, string[] graphs)
    {
        var batches = new ConcurrentQueue<BatchReport>();
        await using var engine = DermxaiEngine.Load(new EngineOptions
        {
            ModelPath = TestPaths.Model("small_f32"), Device = EngineDevice.Cpu, OnBatch = batches.Enqueue, RankBeforeRun = rankBeforeRun,
        });
        var png = Photo("small_f32");

        await engine.ExplainAsync(png, new ExplainOptions { Targets = [TargetRequest.TopK(3)] });
        Assert.That(batches.Select(b => (b.Graph, b.Rows)), Is.EqualTo(graphs.Select(g => (g, g == "forward" ? 1 : 3))),
            "one full-graph run with three target rows, after a ranking run on the forward graph where the graph does not rank");

        batches.Clear();
        await engine.ExplainAsync(png, new ExplainOptions { Targets = [TargetRequest.Predicted, TargetRequest.ClassIndex(2), TargetRequest.ClassIndex(5)] });
        Assert.That(batches.Select(b => (b.Graph, b.Rows)), Is.EqualTo(new[] { ("full", 3) }), "the predicted class resolves inside the run");

        batches.Clear();
        int classes = engine.Model.NumClasses;
        await engine.ExplainAsync(png, new ExplainOptions { Targets = [.. Enumerable.Range(0, classes - 1).Select(TargetRequest.ClassIndex), TargetRequest.TopK(classes)] });
        Assert.That(batches.Select(b => (b.Graph, b.Rows)), Is.EqualTo(new[] { ("forward", 1), ("full", classes) }),
            "C − 1 classes and a top-C: rank rows would make 2C − 1 rows, so the ranking runs first");

        batches.Clear();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.CatchAsync<OperationCanceledException>(() => engine.ExplainAsync(png, new ExplainOptions(), cancelled.Token));
        Assert.That(batches, Is.Empty, "a cancelled call starts no work");
    }

    public static IEnumerable<TestCaseData> ReducedModels() =>
        new[] { "small_f32", "small_f64" }.Select(model => new TestCaseData(model).SetName($"{model}_reduced"));

    /// <summary>
    /// Graphs exported with --reduce-heads (MODEL_reduced.onnx and its siblings) return head-reduced maps;
    /// the maps come out as from the full tensors.
    /// </summary>
    [TestCaseSource(nameof(ReducedModels))]
    public async Task HeadReducedGraphsGiveTheMapsOfTheFullTensors(string model)
    {
        var reduced = TestEngines.Get($"{model}_reduced");
        var full = TestEngines.Get(model);
        var options = new ExplainOptions
        {
            Methods = RelevanceMethods.All.Select(m => m.Id()).ToArray(), Targets = [TargetRequest.TopK(2)], StartLayer = 1,
        };
        var expected = await full.ExplainAsync(Photo(model), options);
        var actual = await reduced.ExplainAsync(Photo(model), options);
        foreach (var method in RelevanceMethods.All)
            Assert.That(reduced.GraphFor([method]), Is.EqualTo(ExpectedGraph(model, method)), method.Id());
        Assert.That(actual.Explanations.Select(e => (e.Method, e.Target.Index)), Is.EqualTo(expected.Explanations.Select(e => (e.Method, e.Target.Index))));
        for (int i = 0; i < expected.Explanations.Count; i++)
            AssertSameMap(actual.Explanations[i].Grid, expected.Explanations[i].Grid, model, $"{expected.Explanations[i].Method} #{i}");
    }
}

