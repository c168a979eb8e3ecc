using System.Diagnostics;
using Google.Protobuf;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Tests;

/// <summary>
/// Not a test: measures the median latency of one Explain (transformer_attribution, one 800x600 JPEG)
/// over a real loopback socket. Run with
/// <c>DERMXAI_BENCH_MODEL=/path/model.onnx dotnet test tests/Server.Tests --filter Name=MedianExplainLatency</c>
/// (DERMXAI_BENCH_CALLS, default 20).
/// </summary>
[Explicit("measurement, not a test")]
public sealed class LatencyMeasurement
{
    [Test]
    public async Task MedianExplainLatency()
    {
        string model = Environment.GetEnvironmentVariable("DERMXAI_BENCH_MODEL") ?? TestPaths.Model("tiny224_f32");
        int calls = int.TryParse(Environment.GetEnvironmentVariable("DERMXAI_BENCH_CALLS"), out var n) ? n : 20;
        var load = Stopwatch.StartNew();
        await using var server = await TestServer.StartAsync("--model", model);
        double loadSeconds = load.Elapsed.TotalSeconds;
        var photo = ByteString.CopyFrom(File.ReadAllBytes(Path.Combine(Dermxai.TestSupport.RepositoryPaths.Golden, "preprocess", "j800x600.jpg")));
        var request = new Proto.ExplainRequest { Image = new Proto.ImageInput { Encoded = photo }, Methods = { "transformer_attribution" } };

        for (int i = 0; i < 3; i++) await server.Client.ExplainAsync(request);
        var latencies = new List<double>();
        var stages = new List<Proto.Timings>();
        for (int i = 0; i < calls; i++)
        {
            var clock = Stopwatch.StartNew();
            var response = await server.Client.ExplainAsync(request);
            latencies.Add(clock.Elapsed.TotalMilliseconds);
            stages.Add(response.Timings);
        }
        latencies.Sort();
        double Median(Func<Proto.Timings, double> stage) => stages.Select(stage).Order().ElementAt(stages.Count / 2);
        TestContext.Out.WriteLine(
            $"{Path.GetFileName(model)}: {calls} calls, median {latencies[calls / 2]:F1} ms (min {latencies[0]:F1}, max {latencies[^1]:F1}); " +
            $"server medians: decode {Median(t => t.DecodeMs):F1}, queue {Median(t => t.QueueMs):F1}, inference {Median(t => t.InferenceMs):F1}, " +
            $"attribution {Median(t => t.AttributionMs):F1} ms; server start incl. session creation {loadSeconds:F1} s");
    }
}
