using Dermxai.Hardening.Tests.Support;
using Dermxai.Protocol.V1;
using Dermxai.Server.Security;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Dermxai.Hardening.Tests.Access;

/// <summary>A server with bearer tokens from a file (two, one commented line) and from an environment variable.</summary>
[TestFixture]
public sealed class BearerTokenTests
{
    private const string FileToken = "file-token-3f9a1c";
    private const string RotatedToken = "rotated-token-77b2";
    private const string EnvironmentToken = "environment-token-e41d";
    private readonly string _variable = "DERMXAI_TEST_TOKEN_" + Guid.NewGuid().ToString("N");
    private string _folder = "";
    private TestServer _server = null!;
    private GrpcChannel _channel = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _folder = Directory.CreateTempSubdirectory("dermxai-tokens-").FullName;
        string tokenFile = Path.Combine(_folder, "tokens");
        File.WriteAllText(tokenFile, $"# accepted tokens\n{FileToken}\n\n  {RotatedToken}  \n");
        Environment.SetEnvironmentVariable(_variable, EnvironmentToken);
        _server = await TestServer.StartAsync([$"--Dermxai:Auth:TokenFile={tokenFile}", $"--Dermxai:Auth:TokenEnvironmentVariable={_variable}"]);
        _channel = _server.Channel();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
        Environment.SetEnvironmentVariable(_variable, null);
        Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public async Task A_call_without_a_token_is_unauthenticated() =>
        Assert.That(await Clients.ModelInfoStatusAsync(_channel), Is.EqualTo(StatusCode.Unauthenticated));

    [TestCase("wrong-token")]
    [TestCase(FileToken + "x")]
    [TestCase("file-token-3f9a1")]
    [TestCase("# accepted tokens")]
    public async Task A_wrong_token_is_unauthenticated(string token) =>
        Assert.That(await Clients.ModelInfoStatusAsync(_channel, Clients.Bearer(token)), Is.EqualTo(StatusCode.Unauthenticated));

    [TestCase("Basic " + FileToken)]
    [TestCase(FileToken)]
    [TestCase("Bearer")]
    [TestCase("Bearer    ")]
    public async Task A_malformed_authorization_header_is_unauthenticated(string header) =>
        Assert.That(await Clients.ModelInfoStatusAsync(_channel, new Metadata { { "authorization", header } }),
            Is.EqualTo(StatusCode.Unauthenticated));

    [TestCase(FileToken)]
    [TestCase(RotatedToken)]
    [TestCase(EnvironmentToken)]
    public async Task Each_configured_token_is_accepted(string token) =>
        Assert.That(await Clients.ModelInfoStatusAsync(_channel, Clients.Bearer(token)), Is.EqualTo(StatusCode.OK));

    [Test]
    public async Task The_health_service_stays_open_without_a_token() =>
        Assert.That(await Clients.HealthAsync(_channel), Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));

    [Test]
    public async Task The_refusal_names_the_problem_and_carries_the_request_id()
    {
        var client = new Protocol.V1.DermxaiService.DermxaiServiceClient(_channel);
        var headers = new Metadata { { "x-request-id", "audit-4711" } };
        var error = Assert.ThrowsAsync<RpcException>(async () => await client.GetModelInfoAsync(new GetModelInfoRequest(), headers))!;
        Assert.That(error.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
        Assert.That(error.Status.Detail, Does.Contain("bearer token"));
        Assert.That(error.GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Reason, Is.EqualTo(Engine.ErrorReasons.Unauthenticated));
        Assert.That(error.Trailers.GetValue("x-request-id"), Is.EqualTo("audit-4711"));
        await Task.CompletedTask;
    }

    /// <summary>The refusal comes before the body is parsed: a message far above the size limit is still just UNAUTHENTICATED.</summary>
    [Test]
    public async Task An_unauthenticated_oversize_message_is_refused_before_it_is_read()
    {
        var client = new Protocol.V1.DermxaiService.DermxaiServiceClient(_channel);
        var request = new ClassifyRequest { Image = new ImageInput { Encoded = ByteString.CopyFrom(new byte[40 * 1024 * 1024]) } };
        var status = await Clients.StatusOfAsync(async () => await client.ClassifyAsync(request, deadline: DateTime.UtcNow.AddSeconds(60)));
        Assert.That(status, Is.EqualTo(StatusCode.Unauthenticated));
    }

    /// <summary>Issue #17a: the rpc label comes from the served RPCs only; any other path counts as "unknown".</summary>
    [Test]
    public async Task Unauthenticated_calls_to_arbitrary_paths_create_no_new_metric_labels()
    {
        var bytes = Marshallers.Create(b => b, b => b);
        string marker = "probe" + Guid.NewGuid().ToString("N")[..8];
        for (int i = 0; i < 5; i++)
        {
            var method = new Method<byte[], byte[]>(MethodType.Unary, $"{marker}.Service{i}", $"{marker}Method{i}", bytes, bytes);
            var status = await Clients.StatusOfAsync(async () =>
                await _channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), []));
            Assert.That(status, Is.EqualTo(StatusCode.Unauthenticated));
        }
        Assert.That(await Clients.ModelInfoStatusAsync(_channel), Is.EqualTo(StatusCode.Unauthenticated));

        using var exported = new MemoryStream();
        await Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(exported);
        string metrics = System.Text.Encoding.UTF8.GetString(exported.ToArray());
        Assert.That(metrics, Does.Not.Contain(marker));
        Assert.That(metrics, Does.Contain("dermxai_requests_total{rpc=\"unknown\",code=\"Unauthenticated\"}"));
        Assert.That(metrics, Does.Contain("dermxai_requests_total{rpc=\"GetModelInfo\",code=\"Unauthenticated\"}"));
    }

    /// <summary>Issue #17d: a refusal without a caller id still carries a request id.</summary>
    [Test]
    public void An_auth_refusal_without_a_caller_id_carries_a_generated_request_id()
    {
        var client = new Protocol.V1.DermxaiService.DermxaiServiceClient(_channel);
        var error = Assert.ThrowsAsync<RpcException>(async () => await client.GetModelInfoAsync(new GetModelInfoRequest()))!;
        Assert.That(error.StatusCode, Is.EqualTo(StatusCode.Unauthenticated));
        Assert.That(error.Trailers.GetValue("x-request-id"), Does.Match("^[0-9a-f]{32}$"));
    }

    [Test]
    public async Task An_authenticated_call_does_real_work()
    {
        var client = new Protocol.V1.DermxaiService.DermxaiServiceClient(_channel);
        var info = await client.GetModelInfoAsync(new GetModelInfoRequest(), Clients.Bearer(EnvironmentToken));
        Assert.That(info.Model.Labels, Has.Count.EqualTo(7));
    }
}

/// <summary>The token comparison itself, without a server.</summary>
[TestFixture]
public sealed class BearerTokenComparisonTests
{
    private static BearerTokens Tokens(params string[] lines)
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllLines(file, lines);
            return BearerTokens.Load(new AuthOptions { TokenFile = file }, _ => null);
        }
        finally { File.Delete(file); }
    }

    [Test]
    public void Only_exact_tokens_are_accepted()
    {
        var tokens = Tokens("alpha-123", "beta-456");
        Assert.Multiple(() =>
        {
            Assert.That(tokens.Accepts("Bearer alpha-123"), Is.True);
            Assert.That(tokens.Accepts("bearer beta-456"), Is.True, "the scheme name is case-insensitive (RFC 7235)");
            Assert.That(tokens.Accepts("Bearer ALPHA-123"), Is.False, "tokens are case-sensitive");
            Assert.That(tokens.Accepts("Bearer alpha-12"), Is.False);
            Assert.That(tokens.Accepts("Bearer alpha-1234"), Is.False);
            Assert.That(tokens.Accepts("Bearer "), Is.False);
            Assert.That(tokens.Accepts(null), Is.False);
            Assert.That(tokens.Accepts("alpha-123"), Is.False);
        });
    }

    [Test]
    public void Without_sources_no_token_is_required() =>
        Assert.That(BearerTokens.Load(new AuthOptions(), _ => null).Required, Is.False);

    [Test]
    public void A_configured_but_missing_source_stops_the_start()
    {
        Assert.Throws<InvalidOperationException>(() => BearerTokens.Load(new AuthOptions { TokenFile = "/nonexistent/dermxai-tokens" }, _ => null));
        Assert.Throws<InvalidOperationException>(() => BearerTokens.Load(new AuthOptions { TokenEnvironmentVariable = "UNSET_VARIABLE" }, _ => null));
        Assert.Throws<InvalidOperationException>(() => BearerTokens.Load(new AuthOptions { TokenEnvironmentVariable = "BLANK" }, _ => "   "));
        Assert.Throws<InvalidOperationException>(() => Tokens("# only a comment", ""));
    }
}
