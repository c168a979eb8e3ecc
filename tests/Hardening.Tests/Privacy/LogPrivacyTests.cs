using System.Security.Cryptography;
using Dermxai.Hardening.Tests.Fuzz;
using Dermxai.Hardening.Tests.Support;
using Dermxai.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Dermxai.Hardening.Tests.Privacy;

/// <summary>
/// Every log line written while the server handles photos, captured with its scopes: none carries
/// image bytes (base64 or hex) or tensor values, each carries its call's request id, and each
/// explanation leaves one audit line (request id, model checksum, method, target, timings).
/// </summary>
[TestFixture]
public sealed class LogPrivacyTests
{
    /// <summary>A tensor value no other number in the logs could spell by chance.</summary>
    private const float TensorMarker = 0.7654321f;
    private readonly CapturedLogs _logs = new();
    private TestServer _server = null!;
    private GrpcChannel _channel = null!;
    private Protocol.V1.DermxaiService.DermxaiServiceClient _client = null!;
    private byte[] _photo = [];
    private string _modelSha = "";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _photo = NoisePhoto();
        using (var stream = File.OpenRead(TestServer.SmallModel)) _modelSha = Convert.ToHexStringLower(SHA256.HashData(stream));
        // Everything at Trace, framework included, so that the privacy check covers what any configuration could write.
        _server = await TestServer.StartAsync(["--Logging:LogLevel:Default=Trace", "--Logging:LogLevel:Microsoft.AspNetCore=Trace", "--Logging:LogLevel:Grpc=Trace"],
            beforeStart: app => app.Services.GetRequiredService<ILoggerFactory>().AddProvider(_logs));
        _channel = _server.Channel();
        _client = new Protocol.V1.DermxaiService.DermxaiServiceClient(_channel);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    /// <summary>Random pixels: a PNG whose every 12-byte run is unique, so any fragment in a log would be found.</summary>
    private static byte[] NoisePhoto()
    {
        var random = new Random(7);
        using var image = new SixLabors.ImageSharp.Image<Rgb24>(64, 48);
        for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++)
            image[x, y] = new Rgb24((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
        return SeedImages.Encode(image, new PngEncoder());
    }

    private ExplainRequest ExplainPhoto() => new()
    {
        Image = new ImageInput { Encoded = ByteString.CopyFrom(_photo) },
        Methods = { "transformer_attribution", "attention_rollout" },
        Targets = { new TargetSpec { ClassIndex = 3 }, new TargetSpec { Predicted = new() } },
        Outputs = new OutputOptions { IncludeOverlayPng = true },
    };

    private static Metadata WithId(string id) => new() { { "x-request-id", id } };

    /// <summary>Runs one call and returns the lines logged while it ran (calls run one at a time).</summary>
    private async Task<IReadOnlyList<LogLine>> LinesOfAsync(Func<Task> call)
    {
        long from = _logs.Mark;
        await call();
        await Task.Delay(50); // the interceptor's closing line is written as the call completes
        return _logs.Lines.Where(l => l.Sequence >= from).ToArray();
    }

    private static IEnumerable<LogLine> Dermxai(IEnumerable<LogLine> lines) => lines.Where(l => l.Category.StartsWith("Dermxai", StringComparison.Ordinal));

    [Test]
    public async Task No_line_carries_image_bytes_or_tensor_values()
    {
        var tensor = new Tensor { Shape = { 3, 112, 112 } };
        tensor.Values.Add(Enumerable.Repeat(TensorMarker, 3 * 112 * 112));
        long from = _logs.Mark;
        await _client.ExplainAsync(ExplainPhoto(), WithId("privacy-explain"));
        await _client.ClassifyAsync(new ClassifyRequest { Image = new ImageInput { Tensor = tensor } }, WithId("privacy-tensor"));
        var corrupt = (byte[])_photo.Clone();
        for (int i = 40; i < 240; i++) corrupt[i] ^= 0x5A;
        await Clients.StatusOfAsync(async () => await _client.ClassifyAsync(new ClassifyRequest { Image = new ImageInput { Encoded = ByteString.CopyFrom(corrupt) } }));
        var badTensor = tensor.Clone();
        badTensor.Values[17] = float.NaN;
        await Clients.StatusOfAsync(async () => await _client.ClassifyAsync(new ClassifyRequest { Image = new ImageInput { Tensor = badTensor } }));
        await Task.Delay(50);

        var lines = _logs.Lines.Where(l => l.Sequence >= from).ToArray();
        Assert.That(lines, Has.Length.GreaterThan(10), "Trace logging captured the calls");
        var fragments = ImageFragments(_photo).Concat(ImageFragments(corrupt)).ToHashSet();
        string[] tensorSpellings = ["0.7654321", "0.765432", "0,765432"];
        var leaks = lines.Where(l => fragments.Any(f => l.FullText.Contains(f, StringComparison.Ordinal))
                                     || tensorSpellings.Any(t => l.FullText.Contains(t, StringComparison.Ordinal)))
            .Select(l => $"{l.Category}: {l.Message}").ToArray();
        TestContext.Out.WriteLine($"{lines.Length} lines checked at Trace level for {fragments.Count} image fragments and the tensor marker");
        Assert.That(leaks, Is.Empty);
    }

    /// <summary>
    /// 16-character base64 and hex pieces of the file, at every byte alignment base64 can have; runs
    /// of a few repeated characters are left out (an all-zero trace id would match them).
    /// </summary>
    private static IEnumerable<string> ImageFragments(byte[] image) => RawFragments(image).Where(f => f.Distinct().Count() >= 6);

    private static IEnumerable<string> RawFragments(byte[] image)
    {
        for (int shift = 0; shift < 3; shift++)
        {
            string base64 = Convert.ToBase64String(image, shift, image.Length - shift);
            for (int at = 4; at + 16 < base64.Length - 4; at += 16) yield return base64.Substring(at, 16);
        }
        string hex = Convert.ToHexString(image);
        for (int at = 0; at + 16 <= hex.Length; at += 16)
        {
            yield return hex.Substring(at, 16);
            yield return hex.Substring(at, 16).ToLowerInvariant();
        }
    }

    [Test]
    public async Task Each_line_of_a_call_and_its_response_carry_the_request_id()
    {
        ExplainResponse? response = null;
        Metadata? headers = null;
        var lines = await LinesOfAsync(async () =>
        {
            var call = _client.ExplainAsync(ExplainPhoto(), WithId("req-id-check-1"));
            headers = await call.ResponseHeadersAsync;
            response = await call;
        });
        Assert.That(response!.RequestId, Is.EqualTo("req-id-check-1"));
        Assert.That(headers!.GetValue("x-request-id"), Is.EqualTo("req-id-check-1"));
        AssertEachLineCarries(lines, "req-id-check-1");
    }

    private static void AssertEachLineCarries(IEnumerable<LogLine> lines, string requestId)
    {
        var ours = Dermxai(lines).ToArray();
        Assert.That(ours, Is.Not.Empty);
        Assert.That(ours.Where(l => !l.FullText.Contains(requestId, StringComparison.Ordinal)).Select(l => l.Message), Is.Empty);
    }

    [Test]
    public async Task A_call_without_an_id_gets_a_generated_one_in_its_response_and_lines()
    {
        ClassifyResponse? response = null;
        var lines = await LinesOfAsync(async () =>
            response = await _client.ClassifyAsync(new ClassifyRequest { Image = new ImageInput { Encoded = ByteString.CopyFrom(_photo) } }));
        Assert.That(response!.RequestId, Has.Length.GreaterThanOrEqualTo(16));
        AssertEachLineCarries(lines, response.RequestId);
    }

    [Test]
    public async Task A_failed_call_logs_its_request_id_and_returns_it()
    {
        Metadata? trailers = null;
        var lines = await LinesOfAsync(async () =>
        {
            var call = _client.ClassifyAsync(new ClassifyRequest { Image = new ImageInput { Encoded = ByteString.CopyFromUtf8("GIF89a not really") } }, WithId("req-id-failed"));
            var error = Assert.ThrowsAsync<RpcException>(async () => await call)!;
            Assert.That(error.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
            trailers = await call.ResponseHeadersAsync;
        });
        Assert.That(trailers!.GetValue("x-request-id"), Is.EqualTo("req-id-failed"));
        AssertEachLineCarries(lines, "req-id-failed");
    }

    [Test]
    public async Task Each_explanation_leaves_one_audit_line()
    {
        ExplainResponse? response = null;
        var lines = await LinesOfAsync(async () => response = await _client.ExplainAsync(ExplainPhoto(), WithId("audit-unary")));
        var audit = AuditLines(lines, "audit-unary");
        Assert.That(audit, Has.Length.EqualTo(1));
        AssertAuditContent(audit[0], response!);
    }

    [Test]
    public async Task Each_streamed_explanation_leaves_its_own_audit_line()
    {
        var responses = new List<ExplainResponse>();
        var lines = await LinesOfAsync(async () =>
        {
            using var stream = _client.ExplainStream(WithId("audit-stream"));
            for (int i = 0; i < 3; i++) await stream.RequestStream.WriteAsync(new ExplainStreamRequest { Request = ExplainPhoto() });
            await stream.RequestStream.CompleteAsync();
            await foreach (var response in stream.ResponseStream.ReadAllAsync()) responses.Add(response.Result);
        });
        var audit = AuditLines(lines, "audit-stream");
        Assert.That(responses, Has.Count.EqualTo(3));
        Assert.That(audit, Has.Length.EqualTo(3));
        foreach (var line in audit) AssertAuditContent(line, responses[0]);
    }

    private static LogLine[] AuditLines(IEnumerable<LogLine> lines, string requestId) =>
        Dermxai(lines).Where(l => l.Message.Contains(requestId, StringComparison.Ordinal) && l.Message.Contains(" model ", StringComparison.Ordinal)).ToArray();

    private void AssertAuditContent(LogLine line, ExplainResponse response)
    {
        Assert.That(line.Level, Is.EqualTo(LogLevel.Information));
        Assert.That(line.Message, Does.Contain(_modelSha), "model checksum");
        foreach (var method in response.Explanations.Select(e => e.Method).Distinct())
            Assert.That(line.Message, Does.Contain(method), "method");
        foreach (var target in response.Explanations.Select(e => e.Target.Index).Distinct())
            Assert.That(line.Message, Does.Match($@"targets [0-9,]*\b{target}\b"), "target");
        Assert.That(line.Message, Does.Match(@"inference [0-9.]+").And.Match(@"total [0-9.]+"), "timings");
    }
}
