using System.Collections.Concurrent;
using Dermxai.Engine;

namespace Dermxai.Tests;

/// <summary>One engine per test model (and variant) for the whole test run (LRP sessions take seconds to create).</summary>
[SetUpFixture]
public sealed class TestEngines
{
    private static readonly ConcurrentDictionary<string, Lazy<DermxaiEngine>> Engines = new();

    internal static DermxaiEngine Get(string model) => Get(model, EngineVariant.AllGraphs);

    internal static DermxaiEngine Get(string model, EngineVariant variant) =>
        Engines.GetOrAdd($"{model}/{variant}", _ => new Lazy<DermxaiEngine>(() => DermxaiEngine.Load(new EngineOptions
        {
            ModelPath = variant == EngineVariant.FullGraphOnly ? FullGraphAlone(model) : TestPaths.Model(model),
            Device = EngineDevice.Cpu,
            MaxBatchSize = 8,
            MaxQueueDelay = TimeSpan.FromMilliseconds(20),
            OneImagePerTargetRow = variant == EngineVariant.OneImagePerTargetRow,
            RankBeforeRun = variant == EngineVariant.RankBeforeRun,
        }))).Value;

    /// <summary>A file set of the full graph alone (as made before the gradient and forward graphs existed).</summary>
    private static string FullGraphAlone(string model)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"dermxai-full-only-{Environment.ProcessId}", model);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "model.onnx");
        File.Copy(TestPaths.Model(model), path, overwrite: true);
        return path;
    }

    [OneTimeTearDown]
    public async Task DisposeEngines()
    {
        foreach (var engine in Engines.Values.Where(e => e.IsValueCreated)) await engine.Value.DisposeAsync();
        string dir = Path.Combine(Path.GetTempPath(), $"dermxai-full-only-{Environment.ProcessId}");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }
}

internal enum EngineVariant
{
    /// <summary>MODEL.onnx with its gradient and forward siblings, as exported.</summary>
    AllGraphs,
    /// <summary>MODEL.onnx copied alone into a directory: every request runs on the full graph.</summary>
    FullGraphOnly,
    /// <summary>All graphs, but every target row carries its own copy of the image (the path of file sets without target_image).</summary>
    OneImagePerTargetRow,
    /// <summary>All graphs, but top-k targets ranked by a forward run first (the path of file sets without dermxai.target_ranks).</summary>
    RankBeforeRun,
}
