using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dermxai.Engine;
using Dermxai.Server;
using Google.Protobuf;
using Grpc.Core;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Tests;

/// <summary>
/// JSON/HTTP through gRPC JSON transcoding: the same answers, the same validation and the same errors
/// (google.rpc.Status JSON bodies with the HTTP status of their gRPC code), the same bearer tokens,
/// and the OpenAPI document.
/// </summary>
public sealed class RestApiTests
{
    private static readonly string[] Limits =
        ["--Dermxai:MaxImageBytes=1000000", "--Dermxai:MaxImagePixels=1000000", "--Dermxai:MaxImageSide=4000", "--Dermxai:MaxReceiveMessageSize=4000000"];

    /// <summary>Kestrel's gRPC endpoints speak HTTP/2 (plaintext: prior knowledge, as curl --http2-prior-knowledge).</summary>
    internal static async Task<HttpResponseMessage> SendAsync(TestServer server, HttpMethod method, string path, string? json = null, string? token = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, server.GrpcUrl + path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = json is null ? null : new StringContent(json, new MediaTypeHeaderValue("application/json")),
        };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }

    private static string Json(IMessage message) => JsonFormatter.Default.Format(message);

    [TestCaseSource(typeof(BadInputTests), nameof(BadInputTests.Cases))]
    public async Task A_bad_input_gets_the_same_status_and_reason_as_a_google_rpc_status_body(
        Proto.ExplainRequest request, StatusCode code, string reason, string? field)
    {
        var server = await TestServers.Get("small_f32", Limits);
        using var response = await SendAsync(server, HttpMethod.Post, "/v1/explain", Json(request));
        string body = await response.Content.ReadAsStringAsync();
        using var status = JsonDocument.Parse(body);
        var details = status.RootElement.GetProperty("details").EnumerateArray().ToArray();
        string? gotReason = details.FirstOrDefault(d => d.GetProperty("@type").GetString()!.EndsWith("ErrorInfo")) is { ValueKind: JsonValueKind.Object } info
            ? info.GetProperty("reason").GetString() : null;
        TestContext.Out.WriteLine($"{TestContext.CurrentContext.Test.Name} | {code} | {gotReason} | HTTP {(int)response.StatusCode}");
        Assert.That((int)response.StatusCode, Is.EqualTo(RestApi.HttpStatusOf(code)));
        Assert.That(status.RootElement.GetProperty("code").GetInt32(), Is.EqualTo((int)code));
        Assert.That(status.RootElement.GetProperty("message").GetString(), Has.Length.LessThanOrEqualTo(ErrorMapping.MaxDetail));
        Assert.That(gotReason, Is.EqualTo(reason));
        Assert.That(body, field is null ? Does.Not.Contain("fieldViolations") : Does.Contain($"\"field\":\"{field}\""));
        Assert.That(response.Headers.Contains(RequestIds.Header));
    }

    [Test]
    public async Task Explain_classify_and_model_answer_as_over_grpc()
    {
        var server = await TestServers.Get("small_f32");
        var grpc = await server.Client.ExplainAsync(new Proto.ExplainRequest { Image = ServiceTests.GoldenImage(), TopK = 2 });
        using var explained = await SendAsync(server, HttpMethod.Post, "/v1/explain", Json(new Proto.ExplainRequest { Image = ServiceTests.GoldenImage(), TopK = 2 }));
        Assert.That(explained.StatusCode, Is.EqualTo(HttpStatusCode.OK), await explained.Content.ReadAsStringAsync());
        var json = JsonParser.Default.Parse<Proto.ExplainResponse>(await explained.Content.ReadAsStringAsync());
        Assert.That(json.Predictions.Select(p => p.Index), Is.EqualTo(grpc.Predictions.Select(p => p.Index)));
        Assert.That(json.Explanations.Single().Grid.Values.ToArray(), Is.EqualTo(grpc.Explanations.Single().Grid.Values.ToArray()).Within(1e-6));

        using var classified = await SendAsync(server, HttpMethod.Post, "/v1/classify", Json(new Proto.ClassifyRequest { Image = ServiceTests.GoldenImage() }));
        Assert.That(JsonParser.Default.Parse<Proto.ClassifyResponse>(await classified.Content.ReadAsStringAsync()).Predictions, Is.Not.Empty);

        using var model = await SendAsync(server, HttpMethod.Get, "/v1/model");
        var info = JsonParser.Default.Parse<Proto.GetModelInfoResponse>(await model.Content.ReadAsStringAsync()).Model;
        Assert.That(info.Device, Is.EqualTo(Proto.Device.Cpu));
        Assert.That(info.Methods, Is.Not.Empty);
    }

    [Test]
    public async Task The_OpenAPI_document_lists_the_three_routes()
    {
        var server = await TestServers.Get("small_f32");
        using var response = await SendAsync(server, HttpMethod.Get, RestApi.OpenApiPath);
        string document = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(document, Does.Contain("\"/v1/explain\"").And.Contain("\"/v1/classify\"").And.Contain("\"/v1/model\""));
    }

    [Test]
    public async Task Bearer_tokens_guard_the_json_routes_as_they_guard_grpc()
    {
        string folder = Directory.CreateTempSubdirectory("dermxai-rest-tokens-").FullName;
        string tokens = Path.Combine(folder, "tokens");
        await File.WriteAllTextAsync(tokens, "rest-token-5c1e\n");
        await using var server = await TestServer.StartAsync("--model", TestPaths.Model("small_f32"), $"--Dermxai:Auth:TokenFile={tokens}");
        try
        {
            using var refused = await SendAsync(server, HttpMethod.Get, "/v1/model");
            string body = await refused.Content.ReadAsStringAsync();
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(body, Does.Contain(ErrorReasons.Unauthenticated).And.Match("\"code\":\\s*16"));
            using var wrong = await SendAsync(server, HttpMethod.Get, "/v1/model", token: "wrong");
            Assert.That(wrong.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            using var accepted = await SendAsync(server, HttpMethod.Get, "/v1/model", token: "rest-token-5c1e");
            Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
