using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Dermxai.Engine;
using Dermxai.Server;
using Google.Rpc;
using Grpc.Core;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Tests;

/// <summary>
/// Client strings above their documented limit get a short INVALID_ARGUMENT (FIELD_TOO_LONG, naming the
/// field and the limit, repeating none of the string) at once, in unary calls and in streams, and the
/// next call still works.
/// </summary>
public sealed class OversizedTextTests
{
    private const int MaxStatusMessage = 512;
    private static readonly string Megabyte = new('x', 1 << 20);

    private static Proto.ExplainRequest Explain() => new() { Image = ServiceTests.GoldenImage() };

    public static IEnumerable<TestCaseData> Requests()
    {
        yield return new TestCaseData(new Proto.ExplainRequest(Explain()) { Methods = { Megabyte } }, "methods[0]", 64).SetName("A 1 MB method id");
        yield return new TestCaseData(new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { ClassLabel = Megabyte } } },
            "targets[0].class_label", 256).SetName("A 1 MB class label");
        yield return new TestCaseData(new Proto.ExplainRequest(Explain()) { ClientTag = Megabyte }, "client_tag", 128).SetName("A 1 MB client tag");
    }

    [TestCaseSource(nameof(Requests))]
    public async Task Gets_a_short_invalid_argument_and_the_next_call_succeeds(Proto.ExplainRequest request, string field, int limit)
    {
        var server = await TestServers.Get("small_f32");
        await server.Client.ExplainAsync(Explain()); // warm: the first call pays for connection and JIT
        var times = new List<double>();
        RpcException? e = null;
        for (int i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            e = Assert.ThrowsAsync<RpcException>(async () => await server.Client.ExplainAsync(request))!;
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        TestContext.Out.WriteLine($"{e!.StatusCode} in {string.Join(", ", times.Select(t => $"{t:F1}"))} ms: {e.Status.Detail}");
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(e.Status.Detail, Has.Length.LessThanOrEqualTo(MaxStatusMessage).And.Contain(field).And.Contain(limit.ToString()).And.Not.Contain("xxxxxxxx"));
        Assert.That(e.GetRpcStatus()!.GetDetail<ErrorInfo>()!.Reason, Is.EqualTo(ErrorReasons.FieldTooLong));
        Assert.That(e.GetRpcStatus()!.GetDetail<BadRequest>()!.FieldViolations.Single().Field, Is.EqualTo(field));

        var next = await server.Client.ExplainAsync(Explain());
        Assert.That(next.Explanations, Is.Not.Empty);
    }

    public static IEnumerable<TestCaseData> JsonBodies()
    {
        string image = Convert.ToBase64String(ServiceTests.GoldenImage().Encoded.ToByteArray());
        string Body(string extra) => $"{{\"image\":{{\"encoded\":\"{image}\"}},{extra}}}";
        yield return new TestCaseData(Body($"\"methods\":[\"{Megabyte}\"]"), ErrorReasons.FieldTooLong).SetName("JSON: a 1 MB method id");
        yield return new TestCaseData(Body($"\"targets\":[{{\"classLabel\":\"{Megabyte}\"}}]"), ErrorReasons.FieldTooLong).SetName("JSON: a 1 MB class label");
        yield return new TestCaseData(Body($"\"clientTag\":\"{Megabyte}\""), ErrorReasons.FieldTooLong).SetName("JSON: a 1 MB client tag");
        // Not a colormap name: JSON transcoding refuses it while reading the request, before the service.
        yield return new TestCaseData(Body($"\"outputs\":{{\"colormap\":\"{Megabyte}\"}}"), ErrorReasons.MalformedMessage).SetName("JSON: a 1 MB colormap");
    }

    [TestCaseSource(nameof(JsonBodies))]
    public async Task Over_json_gets_a_short_google_rpc_status_body_and_the_next_call_succeeds(string json, string reason)
    {
        var server = await TestServers.Get("small_f32");
        (await RestApiTests.SendAsync(server, HttpMethod.Post, "/v1/explain", "{}")).Dispose(); // warm the route
        var times = new List<double>();
        string body = "";
        HttpStatusCode code = default;
        for (int i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await RestApiTests.SendAsync(server, HttpMethod.Post, "/v1/explain", json);
            body = await response.Content.ReadAsStringAsync();
            times.Add(clock.Elapsed.TotalMilliseconds);
            code = response.StatusCode;
        }
        TestContext.Out.WriteLine($"HTTP {(int)code}, {body.Length} characters, in {string.Join(", ", times.Select(t => $"{t:F1}"))} ms: {body}");
        Assert.That(code, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(body, Has.Length.LessThanOrEqualTo(4 * MaxStatusMessage).And.Not.Contain(new string('x', 100)));
        using var status = JsonDocument.Parse(body);
        Assert.That(status.RootElement.GetProperty("code").GetInt32(), Is.EqualTo((int)StatusCode.InvalidArgument));
        Assert.That(status.RootElement.GetProperty("message").GetString(), Has.Length.LessThanOrEqualTo(MaxStatusMessage));
        Assert.That(status.RootElement.GetProperty("details").EnumerateArray().Select(d => d.TryGetProperty("reason", out var r) ? r.GetString() : null),
            Does.Contain(reason));

        using var next = await RestApiTests.SendAsync(server, HttpMethod.Post, "/v1/explain", Google.Protobuf.JsonFormatter.Default.Format(Explain()));
        Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task A_1_MB_method_id_and_label_in_a_stream_get_short_errors_and_the_stream_goes_on()
    {
        var server = await TestServers.Get("small_f32");
        using var stream = server.Client.ExplainStream();
        await stream.RequestStream.WriteAsync(new() { Request = new Proto.ExplainRequest(Explain()) { Methods = { Megabyte } } });
        await stream.RequestStream.WriteAsync(new() { Request = new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { ClassLabel = Megabyte } } } });
        await stream.RequestStream.WriteAsync(new() { Request = new Proto.ExplainRequest(Explain()) { ClientTag = Megabyte } });
        await stream.RequestStream.WriteAsync(new() { Request = Explain() });
        await stream.RequestStream.CompleteAsync();
        var responses = new List<Proto.ExplainStreamResponse>();
        await foreach (var response in stream.ResponseStream.ReadAllAsync()) responses.Add(response);

        Assert.That(responses, Has.Count.EqualTo(4));
        foreach (var refused in responses.Take(3))
        {
            Assert.That(refused.Error.Code, Is.EqualTo((int)StatusCode.InvalidArgument));
            Assert.That(refused.Error.Message, Has.Length.LessThanOrEqualTo(MaxStatusMessage));
            Assert.That(refused.Error.GetDetail<ErrorInfo>()!.Reason, Is.EqualTo(ErrorReasons.FieldTooLong));
            Assert.That(refused.ClientTag, Has.Length.LessThanOrEqualTo(RequestLimits.MaxClientTag));
        }
        Assert.That(responses[3].OutcomeCase, Is.EqualTo(Proto.ExplainStreamResponse.OutcomeOneofCase.Result));
        Assert.That(responses[3].Result.Explanations, Is.Not.Empty);
    }
}
