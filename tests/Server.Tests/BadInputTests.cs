using Google.Protobuf;
using Dermxai.Engine;
using Dermxai.Server;
using Google.Rpc;
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

    /// <summary>Every bad input: the request, its gRPC status, its ErrorInfo reason and the field BadRequest names (null: none).</summary>
    public static IEnumerable<TestCaseData> Cases()
    {
        var png = File.ReadAllBytes(Path.Combine(Dermxai.TestSupport.RepositoryPaths.Golden, "small", "images", "img0.png"));
        string megabyte = new('x', 1 << 20);
        TestCaseData Case(string name, Proto.ExplainRequest request, StatusCode code, string reason, string? field) =>
            new TestCaseData(request, code, reason, field).SetName(name);
        const StatusCode Invalid = StatusCode.InvalidArgument, TooLarge = StatusCode.ResourceExhausted;
        yield return Case("No image", new Proto.ExplainRequest(), Invalid, ErrorReasons.ImageMissing, "image");
        yield return Case("Empty image bytes", Explain(Encoded([])), Invalid, ErrorReasons.ImageEmpty, "image.encoded");
        yield return Case("Corrupt (truncated) PNG", Explain(Encoded(png[..80])), Invalid, ErrorReasons.CorruptImage, "image.encoded");
        yield return Case("Random bytes", Explain(Encoded(Enumerable.Range(0, 500).Select(i => (byte)(i * 7)).ToArray())), Invalid, ErrorReasons.UnsupportedImageFormat, "image.encoded");
        yield return Case("TIFF image", Explain(Encoded([.. "II*\0"u8, 8, 0, 0, 0, 0, 0])), Invalid, ErrorReasons.UnsupportedImageFormat, "image.encoded");
        yield return Case("GIF image", Explain(Encoded([.. "GIF89a"u8, 1, 0, 1, 0])), Invalid, ErrorReasons.UnsupportedImageFormat, "image.encoded");
        yield return Case("Image over the byte limit", Explain(Encoded([.. png, .. new byte[1_100_000]])), TooLarge, ErrorReasons.ImageTooLarge, "image.encoded");
        yield return Case("Image over the pixel limit", Explain(Encoded(Png(2000, 600))), TooLarge, ErrorReasons.ImageTooManyPixels, "image.encoded");
        yield return Case("Image side over the limit", Explain(Encoded(Png(4500, 10))), TooLarge, ErrorReasons.ImageSideTooLarge, "image.encoded");
        yield return Case("Unknown method", new Proto.ExplainRequest(Explain()) { Methods = { "grad_cam_plus" } }, Invalid, ErrorReasons.UnknownMethod, "methods[0]");
        yield return Case("Too many methods", new Proto.ExplainRequest(Explain()) { Methods = { Enumerable.Repeat("raw_attention", 17) } }, Invalid, ErrorReasons.TooManyItems, "methods");
        yield return Case("Class index out of range", new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { ClassIndex = 7 } } }, Invalid, ErrorReasons.ClassOutOfRange, "targets[0].class_index");
        yield return Case("Negative class index", new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { Predicted = new() }, new Proto.TargetSpec { ClassIndex = -1 } } }, Invalid, ErrorReasons.ClassOutOfRange, "targets[1].class_index");
        yield return Case("Unknown class label", new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { ClassLabel = "melanoma?" } } }, Invalid, ErrorReasons.UnknownClassLabel, "targets[0].class_label");
        yield return Case("Target with no kind", new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec() } }, Invalid, ErrorReasons.TargetUnset, "targets[0]");
        yield return Case("Too many targets", new Proto.ExplainRequest(Explain()) { Targets = { Enumerable.Range(0, 65).Select(_ => new Proto.TargetSpec { ClassIndex = 1 }) } }, Invalid, ErrorReasons.TooManyItems, "targets");
        yield return Case("Top-classes target of 0", new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { TopClasses = 0 } } }, Invalid, ErrorReasons.TopClassesOutOfRange, "targets[0].top_classes");
        yield return Case("Top-classes target above the classes", new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { TopClasses = 8 } } }, Invalid, ErrorReasons.TopClassesOutOfRange, "targets[0].top_classes");
        yield return Case("Start layer out of range", new Proto.ExplainRequest(Explain()) { StartLayer = 4 }, Invalid, ErrorReasons.StartLayerOutOfRange, "start_layer");
        yield return Case("top_k of 0", new Proto.ExplainRequest(Explain()) { TopK = 0 }, Invalid, ErrorReasons.TopKOutOfRange, "top_k");
        yield return Case("Negative top_k", new Proto.ExplainRequest(Explain()) { TopK = -2 }, Invalid, ErrorReasons.TopKOutOfRange, "top_k");
        yield return Case("Unknown colormap number", new Proto.ExplainRequest(Explain()) { Outputs = new Proto.OutputOptions { Colormap = (Proto.Colormap)42 } }, Invalid, ErrorReasons.UnknownColormap, "outputs.colormap");
        yield return Case("Overlay alpha above 1", new Proto.ExplainRequest(Explain()) { Outputs = new Proto.OutputOptions { OverlayAlpha = 2 } }, Invalid, ErrorReasons.OverlayAlphaOutOfRange, "outputs.overlay_alpha");
        yield return Case("Overlay alpha of 0", new Proto.ExplainRequest(Explain()) { Outputs = new Proto.OutputOptions { OverlayAlpha = 0 } }, Invalid, ErrorReasons.OverlayAlphaOutOfRange, "outputs.overlay_alpha");
        yield return Case("Faithfulness fraction of 1.5", new Proto.ExplainRequest(Explain()) { FaithfulnessFraction = 1.5f }, Invalid, ErrorReasons.FaithfulnessFractionOutOfRange, "faithfulness_fraction");
        yield return Case("Faithfulness fraction of 0", new Proto.ExplainRequest(Explain()) { FaithfulnessFraction = 0 }, Invalid, ErrorReasons.FaithfulnessFractionOutOfRange, "faithfulness_fraction");
        yield return Case("Tensor of the wrong shape", Explain(Tensor([3, 224, 224], 0f)), Invalid, ErrorReasons.TensorShapeMismatch, "image.tensor.shape");
        yield return Case("Tensor with too few values", Explain(new Proto.ImageInput { Tensor = new Proto.Tensor { Shape = { 3, 112, 112 }, Values = { 1f, 2f } } }), Invalid, ErrorReasons.TensorShapeMismatch, "image.tensor.values");
        yield return Case("Tensor with NaN", Explain(Tensor([3, 112, 112], float.NaN)), Invalid, ErrorReasons.TensorNotFinite, "image.tensor.values");
        yield return Case("Tensor not normalised", Explain(Tensor([3, 112, 112], 1000f)), Invalid, ErrorReasons.TensorNotNormalized, "image.tensor.values");
        yield return Case("1 MB method id", new Proto.ExplainRequest(Explain()) { Methods = { megabyte } }, Invalid, ErrorReasons.FieldTooLong, "methods[0]");
        yield return Case("1 MB class label", new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { ClassLabel = megabyte } } }, Invalid, ErrorReasons.FieldTooLong, "targets[0].class_label");
        yield return Case("1 MB client tag", new Proto.ExplainRequest(Explain()) { ClientTag = megabyte }, Invalid, ErrorReasons.FieldTooLong, "client_tag");
    }

    [TestCaseSource(nameof(Cases))]
    public async Task GetsItsStatusReasonAndFieldAndTheServerKeepsServing(Proto.ExplainRequest request, StatusCode expected, string reason, string? field)
    {
        var server = await Server();
        var e = Assert.ThrowsAsync<RpcException>(async () => await server.Client.ExplainAsync(request))!;
        var status = e.GetRpcStatus();
        TestContext.Out.WriteLine($"{TestContext.CurrentContext.Test.Name} | {e.StatusCode} | {status?.GetDetail<ErrorInfo>()?.Reason} | {status?.GetDetail<BadRequest>()?.FieldViolations[0].Field} | {e.Status.Detail}");
        Assert.That(e.StatusCode, Is.EqualTo(expected));
        Assert.That(e.Status.Detail, Is.Not.Empty.And.Length.LessThanOrEqualTo(ErrorMapping.MaxDetail));
        Assert.That(status, Is.Not.Null, "grpc-status-details-bin");
        Assert.That(status!.Code, Is.EqualTo((int)expected));
        Assert.That(status.GetDetail<ErrorInfo>(), Is.EqualTo(new ErrorInfo { Reason = reason, Domain = ErrorReasons.Domain }));
        Assert.That(status.GetDetail<BadRequest>()?.FieldViolations.Single().Field, Is.EqualTo(field));
        await AssertStillServing(server);
    }

    [Test]
    public async Task MessageOverTheGrpcLimitIsResourceExhausted()
    {
        var server = await Server();
        var e = Assert.ThrowsAsync<RpcException>(async () => await server.Client.ExplainAsync(Explain(Encoded(new byte[4_500_000]))))!;
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.ResourceExhausted));
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
        var status = refused!.GetRpcStatus()!;
        Assert.That(status.GetDetail<ErrorInfo>()!.Reason, Is.EqualTo(ErrorReasons.QueueFull), "told apart from IMAGE_TOO_LARGE by reason");
        Assert.That(status.GetDetail<RetryInfo>()!.RetryDelay.ToTimeSpan(), Is.GreaterThan(TimeSpan.Zero));
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
        Assert.That(e.GetRpcStatus()!.GetDetail<ErrorInfo>()!.Reason, Is.EqualTo(ErrorReasons.ModelUnavailable));
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
