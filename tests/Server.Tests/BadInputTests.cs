using Google.Protobuf;
using Grpc.Core;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Tests;

/// <summary>Every bad input gets its status (docs/contract.md#errors) with one sentence, and the server keeps serving.</summary>
public sealed class BadInputTests
{
    private static readonly string[] Limits =
        ["--Dermxai:MaxImageBytes=1000000", "--Dermxai:MaxImagePixels=1000000", "--Dermxai:MaxImageSide=4000", "--Dermxai:MaxReceiveMessageSize=4000000"];

    private static Task<TestServer> Server() => TestServers.Get("small_f32", Limits);

    private static Proto.ExplainRequest Explain(Proto.ImageInput? image = null) => new() { Image = image ?? ServiceTests.GoldenImage() };

    private static Proto.ImageInput Encoded(byte[] bytes) => new() { Encoded = ByteString.CopyFrom(bytes) };

    private static Proto.ImageInput Tensor(long[] shape, float fill)
    {
        var tensor = new Proto.Tensor { Shape = { shape } };
        tensor.Values.Add(Enumerable.Repeat(fill, (int)shape.Aggregate(1L, (a, b) => a * b)));
        return new Proto.ImageInput { Tensor = tensor };
    }

    private static byte[] Png(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height);
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    public static IEnumerable<TestCaseData> Cases()
    {
        var png = File.ReadAllBytes(Path.Combine(Dermxai.TestSupport.RepositoryPaths.Golden, "small", "images", "img0.png"));
        TestCaseData Case(string name, Proto.ExplainRequest request, StatusCode code) => new TestCaseData(request, code).SetName(name);
        yield return Case("No image", new Proto.ExplainRequest(), StatusCode.InvalidArgument);
        yield return Case("Empty image bytes", Explain(Encoded([])), StatusCode.InvalidArgument);
        yield return Case("Corrupt (truncated) PNG", Explain(Encoded(png[..80])), StatusCode.InvalidArgument);
        yield return Case("Random bytes", Explain(Encoded(Enumerable.Range(0, 500).Select(i => (byte)(i * 7)).ToArray())), StatusCode.InvalidArgument);
        yield return Case("TIFF image", Explain(Encoded([.. "II*\0"u8, 8, 0, 0, 0, 0, 0])), StatusCode.InvalidArgument);
        yield return Case("GIF image", Explain(Encoded([.. "GIF89a"u8, 1, 0, 1, 0])), StatusCode.InvalidArgument);
        yield return Case("Image over the byte limit", Explain(Encoded([.. png, .. new byte[1_100_000]])), StatusCode.ResourceExhausted);
        yield return Case("Image over the pixel limit", Explain(Encoded(Png(2000, 600))), StatusCode.ResourceExhausted);
        yield return Case("Image side over the limit", Explain(Encoded(Png(4500, 10))), StatusCode.ResourceExhausted);
        yield return Case("Message over the gRPC limit", Explain(Encoded(new byte[4_500_000])), StatusCode.ResourceExhausted);
        yield return Case("Unknown method", new Proto.ExplainRequest(Explain()) { Methods = { "grad_cam_plus" } }, StatusCode.InvalidArgument);
        yield return Case("Class index out of range", new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { ClassIndex = 7 } } }, StatusCode.InvalidArgument);
        yield return Case("Negative class index", new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { ClassIndex = -1 } } }, StatusCode.InvalidArgument);
        yield return Case("Unknown class label", new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { ClassLabel = "melanoma?" } } }, StatusCode.InvalidArgument);
        yield return Case("Top-k target of 0", new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { TopK = 0 } } }, StatusCode.InvalidArgument);
        yield return Case("Top-k target above the classes", new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { TopK = 8 } } }, StatusCode.InvalidArgument);
        yield return Case("Start layer out of range", new Proto.ExplainRequest(Explain()) { StartLayer = 4 }, StatusCode.InvalidArgument);
        yield return Case("Negative top_k", new Proto.ExplainRequest(Explain()) { TopK = -2 }, StatusCode.InvalidArgument);
        yield return Case("Unknown colormap", new Proto.ExplainRequest(Explain()) { Outputs = new Proto.OutputOptions { Colormap = "rainbow" } }, StatusCode.InvalidArgument);
        yield return Case("Overlay alpha above 1", new Proto.ExplainRequest(Explain()) { Outputs = new Proto.OutputOptions { OverlayAlpha = 2 } }, StatusCode.InvalidArgument);
        yield return Case("Faithfulness fraction of 1.5", new Proto.ExplainRequest(Explain()) { FaithfulnessFraction = 1.5f }, StatusCode.InvalidArgument);
        yield return Case("Tensor of the wrong shape", Explain(Tensor([3, 224, 224], 0f)), StatusCode.InvalidArgument);
        yield return Case("Tensor with too few values", Explain(new Proto.ImageInput { Tensor = new Proto.Tensor { Shape = { 3, 112, 112 }, Values = { 1f, 2f } } }), StatusCode.InvalidArgument);
        yield return Case("Tensor with NaN", Explain(Tensor([3, 112, 112], float.NaN)), StatusCode.InvalidArgument);
    }

    [TestCaseSource(nameof(Cases))]
    public async Task GetsItsStatusAndTheServerKeepsServing(Proto.ExplainRequest request, StatusCode expected)
    {
        var server = await Server();
        var e = Assert.ThrowsAsync<RpcException>(async () => await server.Client.ExplainAsync(request));
        TestContext.Out.WriteLine($"{TestContext.CurrentContext.Test.Name}: {e!.StatusCode}: {e.Status.Detail}");
        Assert.That(e.StatusCode, Is.EqualTo(expected));
        Assert.That(e.Status.Detail, Is.Not.Empty);
        await AssertStillServing(server);
    }

    [Test]
    public async Task ClassifyWithNoImage()
    {
        var server = await Server();
        var e = Assert.ThrowsAsync<RpcException>(async () => await server.Client.ClassifyAsync(new Proto.ClassifyRequest()));
        Assert.That(e!.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        await AssertStillServing(server);
    }

    [Test]
    public async Task DeadlineExceeded()
    {
        var server = await TestServers.Get("tiny224_f64");
        var request = new Proto.ExplainRequest
        {
            Image = Encoded(File.ReadAllBytes(Path.Combine(Dermxai.TestSupport.RepositoryPaths.Golden, "tiny224", "images", "img0.png"))),
            Methods = { "transformer_attribution", "generic_attention", "lrp_rollout" },
        };
        var e = Assert.ThrowsAsync<RpcException>(async () =>
            await server.Client.ExplainAsync(request, deadline: DateTime.UtcNow.AddMilliseconds(100)));
        TestContext.Out.WriteLine($"Deadline of 100 ms: {e!.StatusCode}: {e.Status.Detail}");
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.DeadlineExceeded));
        await AssertStillServing(server);
    }

    [Test]
    public async Task QueueFull()
    {
        var server = await TestServers.Get("small_f32", "--max-queue-size", "2", "--max-batch-size", "1");
        var calls = Enumerable.Range(0, 24).Select(_ => server.Client.ExplainAsync(Explain()).ResponseAsync).ToArray();
        var outcomes = await Task.WhenAll(calls.Select(async c =>
        {
            try { await c; return StatusCode.OK; }
            catch (RpcException e) { return e.StatusCode; }
        }));
        var refused = calls.Select(c => c.Exception?.InnerException).OfType<RpcException>().FirstOrDefault();
        TestContext.Out.WriteLine($"24 calls at queue size 2: {outcomes.Count(o => o == StatusCode.OK)} OK, " +
            $"{outcomes.Count(o => o == StatusCode.ResourceExhausted)} RESOURCE_EXHAUSTED ({refused?.Status.Detail})");
        Assert.That(outcomes, Does.Contain(StatusCode.ResourceExhausted));
        Assert.That(outcomes, Does.Contain(StatusCode.OK));
        Assert.That(outcomes.All(o => o is StatusCode.OK or StatusCode.ResourceExhausted));
        await AssertStillServing(server);
    }

    [Test]
    public async Task ModelMissingAnswersUnavailable()
    {
        await using var server = await TestServer.StartAsync("--model", "/nonexistent/dermxai/model.onnx", "--require-model", "false");
        var e = Assert.ThrowsAsync<RpcException>(async () => await server.Client.ExplainAsync(Explain()));
        TestContext.Out.WriteLine($"Model missing: {e!.StatusCode}: {e.Status.Detail}");
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.Unavailable));
        Assert.That(e.Status.Detail, Does.Contain("/nonexistent/dermxai/model.onnx"));
        var health = await new Grpc.Health.V1.Health.HealthClient(server.Channel).CheckAsync(new Grpc.Health.V1.HealthCheckRequest());
        Assert.That(health.Status, Is.EqualTo(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.NotServing));
    }

    [Test]
    public void ModelMissingFailsTheStartByDefaultNamingThePath()
    {
        var app = TestServer.Build("--model", "/nonexistent/dermxai/model.onnx");
        var e = Assert.ThrowsAsync<FileNotFoundException>(() => app.StartAsync());
        Assert.That(e!.Message, Does.Contain("/nonexistent/dermxai/model.onnx"));
    }

    private static async Task AssertStillServing(TestServer server)
    {
        var response = await server.Client.ClassifyAsync(new Proto.ClassifyRequest { Image = ServiceTests.GoldenImage() });
        Assert.That(response.Predictions, Is.Not.Empty);
    }
}
