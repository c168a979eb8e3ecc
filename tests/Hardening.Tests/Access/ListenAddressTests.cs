using System.Net;
using Dermxai.Hardening.Tests.Support;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Dermxai.Hardening.Tests.Access;

/// <summary>Issue #17b: every host form of --urls that Kestrel knows starts the server (no FormatException).</summary>
[TestFixture]
public sealed class ListenAddressTests
{
    [TestCase("localhost", "127.0.0.1")]
    [TestCase("*", "127.0.0.1")]
    [TestCase("+", "127.0.0.1")]
    [TestCase("[::]", "127.0.0.1")]
    [TestCase("0.0.0.0", "127.0.0.1")]
    [TestCase("127.0.0.1", "127.0.0.1")]
    [TestCase("[::1]", "[::1]")]
    [TestCase("this-machine", "127.0.0.1")]
    public async Task Urls_with_a_host_name_wildcard_or_ip_literal_start_and_serve(string host, string connectTo)
    {
        if (host == "this-machine") host = Dns.GetHostName();
        int port = TestServer.FreePort();
        // Without a model the start is quick; health answers NOT_SERVING, which proves the endpoint listens.
        await using var server = await TestServer.StartAsync(
            [$"--Dermxai:Urls=http://{host}:{port}", "--model", "/nonexistent/dermxai/model.onnx", "--require-model", "false"]);
        using var channel = GrpcChannel.ForAddress($"http://{connectTo}:{port}");
        var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.That(reply.Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.NotServing));
    }

    [Test]
    public void An_unusable_url_stops_the_start_with_a_sentence_naming_it()
    {
        var error = Assert.Throws<InvalidOperationException>(() => TestServer.Build(["--Dermxai:Urls=127.0.0.1:5000"], "http", out _))!;
        Assert.That(error.Message, Does.Contain("'127.0.0.1:5000'").And.Contain("--urls"));
    }
}
