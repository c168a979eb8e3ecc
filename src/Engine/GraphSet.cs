using Dermxai.Attribution;
using Microsoft.Extensions.Logging;

namespace Dermxai.Engine;

/// <summary>
/// The graphs of one file set: MODEL.onnx (full: forward, gradient and LRP passes) and, where they exist
/// beside it, MODEL.gradient.onnx and MODEL.forward.onnx. A request runs on the cheapest graph whose
/// outputs cover all of its methods; the full graph covers every method, so file sets made before the
/// lean graphs (full graph only, or a logits-only forward graph) are served exactly as before.
/// </summary>
internal sealed class GraphSet : IDisposable
{
    private GraphSet(OnnxGraph full, OnnxGraph? gradient, OnnxGraph? forward)
    {
        Full = full;
        Gradient = gradient;
        Forward = forward;
        ByCost = new[] { forward, gradient, full }.OfType<OnnxGraph>().ToArray();
    }

    public OnnxGraph Full { get; }
    public OnnxGraph? Gradient { get; }
    public OnnxGraph? Forward { get; }

    /// <summary>The loaded graphs, cheapest first.</summary>
    public IReadOnlyList<OnnxGraph> ByCost { get; }

    /// <summary>Logits only (Classify, rankings, faithfulness checks): the forward graph if there is one.</summary>
    public OnnxGraph Classifier => Forward ?? Full;

    /// <summary>The cheapest graph that serves every one of <paramref name="methods"/>.</summary>
    public OnnxGraph Route(IReadOnlyList<RelevanceMethod> methods) => ByCost.First(graph => methods.All(graph.Serves));

    /// <summary>Opens the file set; <paramref name="describe"/> reads the model from the full graph.</summary>
    internal static (GraphSet Graphs, ModelDescription Model, string Device) Load(
        string path, EngineOptions options, Func<OnnxGraph, ModelDescription> describe, ILogger logger)
    {
        var (full, device) = OpenFull(path, options, logger, float64: false);
        var opened = new List<OnnxGraph> { full };
        try
        {
            var model = describe(full);
            CheckServesEveryMethod(full, path);
            if (model.IsFloat64)
            {
                full.Dispose();
                opened.Clear();
                (full, device) = OpenFull(path, options, logger, float64: true);
                opened.Add(full);
            }
            var siblingOptions = options with { Device = device == "cuda" ? EngineDevice.Cuda : EngineDevice.Cpu };
            var gradient = OpenSibling(Path.ChangeExtension(path, ".gradient.onnx"), false, "gradient", siblingOptions, model, path, logger);
            if (gradient is not null) opened.Add(gradient);
            var forward = OpenSibling(options.ForwardModelPath ?? Path.ChangeExtension(path, ".forward.onnx"),
                options.ForwardModelPath is not null, "forward", siblingOptions, model, path, logger);
            return (new GraphSet(full, gradient, forward), model, device);
        }
        catch
        {
            foreach (var graph in opened) graph.Dispose();
            throw;
        }
    }

    private static (OnnxGraph, string) OpenFull(string path, EngineOptions options, ILogger logger, bool float64)
    {
        try { return OnnxGraph.Open(path, "full", options, float64, logger); }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{Path.GetFileName(path)} could not be loaded by ONNX Runtime: {e.Message.Split('\n')[0]}", e);
        }
    }

    private static void CheckServesEveryMethod(OnnxGraph full, string path)
    {
        if (full.Metadata.GetValueOrDefault("dermxai.graph") == "forward" || !full.TakesTargets)
            throw new InvalidDataException(
                $"{Path.GetFileName(path)} is a forward-only graph; serve the full graph (with attn, attn_grad, attn_rel) instead.");
        var unserved = RelevanceMethods.All.Where(m => !full.Serves(m)).ToArray();
        if (unserved.Length > 0)
            throw new InvalidDataException(
                $"{Path.GetFileName(path)} lacks the outputs {string.Join(", ", GraphMaps.OutputsFor(unserved[0], full.ReducedHeads))} that {unserved[0].Id()} needs; serve the full graph instead.");
    }

    private static OnnxGraph? OpenSibling(string path, bool required, string name, EngineOptions options, ModelDescription model,
        string fullPath, ILogger logger)
    {
        if (!File.Exists(path))
        {
            if (required) throw new FileNotFoundException($"The {name} model file {path} does not exist.", path);
            return null;
        }
        var (graph, _) = OnnxGraph.Open(path, name, options, model.IsFloat64, logger);
        if (graph.Metadata.GetValueOrDefault("checkpoint_sha256", "") != model.CheckpointSha256)
        {
            graph.Dispose();
            throw new InvalidDataException(
                $"{Path.GetFileName(path)} was exported from another checkpoint than {Path.GetFileName(fullPath)}.");
        }
        logger.LogInformation("Loaded the {Graph} graph {Path}: serves {Methods}", name, path,
            string.Join(", ", RelevanceMethods.All.Where(graph.Serves).Select(m => m.Id())) is { Length: > 0 } served ? served : "Classify only");
        return graph;
    }

    public void Dispose()
    {
        foreach (var graph in ByCost) graph.Dispose();
    }
}
