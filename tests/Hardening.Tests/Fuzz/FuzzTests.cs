using Dermxai.Engine;
using Dermxai.Hardening.Tests.Support;
using Dermxai.Protocol.V1;
using Dermxai.Server;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;

namespace Dermxai.Hardening.Tests.Fuzz;

/// <summary>
/// The hostile corpus: all of it in-process through the server's mapping and the engine (fast), a
/// sample over a real loopback gRPC socket. Every case must end in a status its construction allows,
/// with no crash and no hang; counts, histograms and times are printed.
/// </summary>
[TestFixture]
public sealed class FuzzTests
{
    private const int MinimumCases = 10_000;
    private const int GrpcSampleEvery = 40;
    private DermxaiEngine _engine = null!;
    private IReadOnlyList<FuzzCase> _cases = null!;

    [OneTimeSetUp]
    public void Load()
    {
        // The server's own defaults (limits, batching), on the CPU.
        // The server's own limits, on the CPU; no batching delay: this is about inputs, and a lone caller would wait it out each time.
        var options = new ServerOptions { Device = "cpu", MaxQueueDelayMs = 0 }.ToEngineOptions(TestServer.SmallModel, _ => { });
        _engine = DermxaiEngine.Load(options);
        var info = ProtoMapping.ToModelInfo(_engine);
        _cases = HostileCorpus.Generate(new HostileCorpus.ModelFacts(
            info.Labels, info.ImageSize, info.NumLayers, info.MaxImageBytes, info.Methods.Select(m => m.Id).ToArray()));
    }

    [OneTimeTearDown]
    public async Task UnloadAsync() => await _engine.DisposeAsync();

    [Test]
    public async Task Every_case_in_process_ends_in_a_defined_status()
    {
        Assert.That(_cases, Has.Count.GreaterThanOrEqualTo(MinimumCases));
        var report = await FuzzRunner.RunAllAsync(_cases, request => FuzzRunner.InProcessAsync(_engine, request), parallelism: 4);
        Print(report.Summary($"Fuzz in-process (seed {HostileCorpus.Seed})"));
        Assert.That(report.Crashes, Is.Zero, string.Join("\n", report.Violations.Take(80)));
        Assert.That(report.Violations, Is.Empty, string.Join("\n", report.Violations.Take(80)));
    }

    [Test]
    public async Task A_sample_over_grpc_gets_the_same_statuses_and_the_server_keeps_serving()
    {
        var sample = _cases.Where(c => c.Id % GrpcSampleEvery == 0 || c.Category.StartsWith("oversize", StringComparison.Ordinal)).ToArray();
        var server = await SharedServer.GetAsync();
        using var channel = server.Channel();
        var client = new Protocol.V1.DermxaiService.DermxaiServiceClient(channel);

        var overGrpc = await FuzzRunner.RunAllAsync(sample, request => FuzzRunner.OverGrpcAsync(client, request), parallelism: 4);
        Print(overGrpc.Summary("Fuzz over gRPC (loopback)"));
        var inProcess = await FuzzRunner.RunAllAsync(sample, request => FuzzRunner.InProcessAsync(_engine, request), parallelism: 2);

        Assert.That(overGrpc.Crashes, Is.Zero, string.Join("\n", overGrpc.Violations.Take(30)));
        Assert.That(overGrpc.Violations, Is.Empty, string.Join("\n", overGrpc.Violations.Take(30)));
        var mismatches = sample.Select((c, i) => (c, grpc: overGrpc.Outcomes[i].Label, local: inProcess.Outcomes[i].Label))
            .Where(x => x.grpc != x.local).Select(x => $"#{x.c.Id} {x.c.Category}: gRPC {x.grpc}, in-process {x.local}").ToArray();
        Assert.That(mismatches, Is.Empty);

        Assert.That(await Clients.HealthAsync(channel), Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
        Assert.That(await Clients.StatusOfAsync(async () => await client.ClassifyAsync(
            new ClassifyRequest { Image = new ImageInput { Encoded = ByteString.CopyFrom(SeedImages.Accepted[0].Bytes) } })), Is.EqualTo(StatusCode.OK));
    }

    [Test]
    public async Task A_message_over_the_grpc_size_limit_is_resource_exhausted()
    {
        var server = await SharedServer.GetAsync();
        using var channel = server.Channel();
        var client = new Protocol.V1.DermxaiService.DermxaiServiceClient(channel);
        var request = new ClassifyRequest { Image = new ImageInput { Encoded = ByteString.CopyFrom(new byte[new ServerOptions().MaxReceiveMessageSize + 1]) } };
        var outcome = await FuzzRunner.OverGrpcAsync(client, request);
        Assert.That(outcome.Status, Is.EqualTo(StatusCode.ResourceExhausted), outcome.Detail);
        Assert.That(await Clients.HealthAsync(channel), Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
    }

    private static void Print(string text)
    {
        TestContext.Out.WriteLine(text);
        TestContext.Progress.WriteLine(text);
    }
}
