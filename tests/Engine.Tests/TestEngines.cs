using System.Collections.Concurrent;
using Dermxai.Engine;

namespace Dermxai.Tests;

/// <summary>One engine per test model for the whole test run (LRP sessions take seconds to create).</summary>
[SetUpFixture]
public sealed class TestEngines
{
    private static readonly ConcurrentDictionary<string, Lazy<DermxaiEngine>> Engines = new();

    internal static DermxaiEngine Get(string model) =>
        Engines.GetOrAdd(model, name => new Lazy<DermxaiEngine>(() => DermxaiEngine.Load(new EngineOptions
        {
            ModelPath = TestPaths.Model(name),
            Device = EngineDevice.Cpu,
            MaxBatchSize = 8,
            MaxQueueDelay = TimeSpan.FromMilliseconds(20),
        }))).Value;

    [OneTimeTearDown]
    public async Task DisposeEngines()
    {
        foreach (var engine in Engines.Values.Where(e => e.IsValueCreated)) await engine.Value.DisposeAsync();
    }
}
