using Dermxai.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Tests;

/// <summary>Health, reflection, model info, request ids, streaming, batching and shutdown over a real socket.</summary>
public sealed class ServiceTests
{
    internal static Proto.ImageInput GoldenImage(int index = 0) => new()
    {
        Encoded = ByteString.CopyFrom(File.ReadAllBytes(Path.Combine(RepositoryPaths.Golden, "small", "images", $"img{index}.png"))),
    };

    [Test]
    public async Task HealthIsServingOnceTheModelIsLoaded()
    {
        var server = await TestServers.Get("small_f32");
        var health = new Health.HealthClient(server.Channel);
        var overall = await health.CheckAsync(new HealthCheckRequest());
        var service = await health.CheckAsync(new HealthCheckRequest { Service = "dermxai.v1.DermxaiService" });
        Assert.That((overall.Status, service.Status), Is.EqualTo((HealthCheckResponse.Types.ServingStatus.Serving, HealthCheckResponse.Types.ServingStatus.Serving)));
    }

    [Test]
    public async Task ReflectionListsTheService()
    {
        var server = await TestServers.Get("small_f32");
        using var call = new ServerReflection.ServerReflectionClient(server.Channel).ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.That(await call.ResponseStream.MoveNext(), Is.True);
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name);
        Assert.That(names, Does.Contain("dermxai.v1.DermxaiService").And.Contain("grpc.health.v1.Health"));
    }

    [Test]
    public async Task ModelInfoDescribesTheModel()
    {
        var server = await TestServers.Get("small_f32");
        var info = (await server.Client.GetModelInfoAsync(new Proto.GetModelInfoRequest())).Model;
        Assert.Multiple(() =>
        {
            Assert.That(info.Labels, Has.Count.EqualTo(7));
            Assert.That((info.ImageSize, info.PatchSize, info.GridSize, info.NumLayers, info.NumHeads), Is.EqualTo((112, 16, 7, 4, 4)));
            Assert.That(info.Mean, Is.EqualTo(new[] { 0.5f, 0.5f, 0.5f }));
            Assert.That(info.ContractVersion, Is.EqualTo(1));
            Assert.That(info.Device, Is.EqualTo(Proto.Device.Cpu));
            Assert.That(info.ModelSha256, Has.Length.EqualTo(64));
            Assert.That(info.Methods.Select(m => m.Id), Does.Contain("transformer_attribution").And.Contain("attention_rollout"));
            Assert.That(info.Methods.Single(m => m.IsDefault).Id, Is.EqualTo("transformer_attribution"));
            Assert.That(info.Methods.Single(m => m.Id == "raw_attention").ClassSpecific, Is.False);
            Assert.That(info.MaxImageBytes, Is.GreaterThan(0));
        });
    }

    [Test]
    public async Task TheRequestIdIsEchoedOrGenerated()
    {
        var server = await TestServers.Get("small_f32");
        var call = server.Client.ClassifyAsync(new Proto.ClassifyRequest { Image = GoldenImage() },
            new Metadata { { "x-request-id", "clinic-42" } });
        var response = await call;
        Assert.That(response.RequestId, Is.EqualTo("clinic-42"));
        Assert.That((await call.ResponseHeadersAsync).GetValue("x-request-id"), Is.EqualTo("clinic-42"));
        var generated = await server.Client.ClassifyAsync(new Proto.ClassifyRequest { Image = GoldenImage() });
        Assert.That(generated.RequestId, Has.Length.GreaterThan(8));
        Assert.That(generated.Predictions, Has.Count.EqualTo(5));
    }

    [Test]
    public async Task OverlaysLargerThanTheDefaultMessageLimitComeBack()
    {
        var server = await TestServers.Get("small_f32");
        // A noisy 1600x1200 PNG gives overlay and heat-map PNGs of several MB together.
        var random = new Random(1);
        var rgb = new byte[1600 * 1200 * 3];
        random.NextBytes(rgb);
        using var image = SixLabors.ImageSharp.Image.LoadPixelData<SixLabors.ImageSharp.PixelFormats.Rgb24>(rgb, 1600, 1200);
        using var png = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, png);
        var response = await server.Client.ExplainAsync(new Proto.ExplainRequest
        {
            Image = new Proto.ImageInput { Encoded = ByteString.CopyFrom(png.ToArray()) },
            Outputs = new Proto.OutputOptions { IncludeHeatmapPng = true, IncludeOverlayPng = true, Colormap = Proto.Colormap.Viridis },
        });
        var e = response.Explanations.Single();
        Assert.That((response.ImageWidth, response.ImageHeight), Is.EqualTo((1600, 1200)));
        Assert.That(e.OverlayPng.Length + e.HeatmapPng.Length, Is.GreaterThan(4 * 1024 * 1024));
    }

    [Test]
    public async Task StreamAnswersInOrderAndReportsFailuresInline()
    {
        var server = await TestServers.Get("small_f32");
        using var call = server.Client.ExplainStream();
        var requests = new[]
        {
            new Proto.ExplainRequest { Image = GoldenImage(0), ClientTag = "a" },
            new Proto.ExplainRequest { Image = GoldenImage(1), ClientTag = "b", Methods = { "no_such_method" } },
            new Proto.ExplainRequest { Image = GoldenImage(2), ClientTag = "c", Methods = { "attention_rollout" } },
        };
        foreach (var r in requests) await call.RequestStream.WriteAsync(new Proto.ExplainStreamRequest { Request = r });
        await call.RequestStream.CompleteAsync();
        var responses = new List<Proto.ExplainStreamResponse>();
        await foreach (var r in call.ResponseStream.ReadAllAsync()) responses.Add(r);
        Assert.That(responses.Select(r => r.ClientTag), Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(responses[1].Error.Code, Is.EqualTo((int)StatusCode.InvalidArgument));
        Assert.That(responses[1].Error.GetDetail<Google.Rpc.ErrorInfo>()!.Reason, Is.EqualTo("UNKNOWN_METHOD"));
        Assert.That(responses[0].Result.ClientTag, Is.EqualTo("a"));
        Assert.That(responses[2].Result.Explanations.Single().Method, Is.EqualTo("attention_rollout"));
    }

    [Test]
    public async Task SixtyFourParallelCallsAreCorrectAndBatched()
    {
        var server = await TestServers.Get("small_f32");
        var single = new Dictionary<int, Proto.Explanation>();
        for (int i = 0; i < 8; i++)
            single[i] = (await server.Client.ExplainAsync(new Proto.ExplainRequest { Image = GoldenImage(i % 4) })).Explanations[0];
        double rowsBefore = BatchRows(await server.ScrapeMetricsAsync()).Sum, batchesBefore = BatchRows(await server.ScrapeMetricsAsync()).Count;

        var responses = await Task.WhenAll(Enumerable.Range(0, 64).Select(i =>
            server.Client.ExplainAsync(new Proto.ExplainRequest { Image = GoldenImage(i % 4) }).ResponseAsync));
        for (int i = 0; i < 64; i++)
        {
            var expected = single[i % 4];
            var actual = responses[i].Explanations[0];
            Assert.That(actual.Target.Index, Is.EqualTo(expected.Target.Index), $"call {i}");
            float scale = expected.Grid.Values.Max(Math.Abs);
            Assert.That(actual.Grid.Values.ToArray(), Is.EqualTo(expected.Grid.Values.ToArray()).Within(1e-4f * scale), $"call {i}");
        }
        var (sum, count) = BatchRows(await server.ScrapeMetricsAsync());
        double meanRows = (sum - rowsBefore) / (count - batchesBefore);
        TestContext.Out.WriteLine($"64 parallel calls: {count - batchesBefore} batches, {meanRows:F2} rows per batch");
        Assert.That(meanRows, Is.GreaterThan(1.5), "parallel calls shared batches");
    }

    private static (double Sum, double Count) BatchRows(string metrics)
    {
        double Value(string series) => double.Parse(metrics.Split('\n').Single(l => l.StartsWith(series)).Split(' ')[1],
            System.Globalization.CultureInfo.InvariantCulture);
        return (Value("dermxai_batch_rows_sum{graph=\"full\"}"), Value("dermxai_batch_rows_count{graph=\"full\"}"));
    }

    [Test]
    public async Task ShutdownCompletesInFlightCalls()
    {
        await using var server = await TestServer.StartAsync("--model", TestPaths.Model("small_f32"));
        var calls = Enumerable.Range(0, 4).Select(i =>
            server.Client.ExplainAsync(new Proto.ExplainRequest { Image = GoldenImage(i), Methods = { "transformer_attribution", "generic_attention" } }).ResponseAsync).ToArray();
        await Task.Delay(30);
        var stopping = server.App.StopAsync();
        var responses = await Task.WhenAll(calls);
        await stopping;
        Assert.That(responses.All(r => r.Explanations.Count == 2), Is.True);
    }
}
