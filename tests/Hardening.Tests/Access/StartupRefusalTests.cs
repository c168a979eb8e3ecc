using System.Security.Cryptography;
using Dermxai.Hardening.Tests.Support;
using Grpc.Core;

namespace Dermxai.Hardening.Tests.Access;

/// <summary>Settings that must stop the server with a sentence naming the problem instead of serving unprotected or unverified.</summary>
[TestFixture]
public sealed class StartupRefusalTests
{
    private static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    [Test]
    public async Task A_model_whose_sha256_differs_from_the_pin_is_refused()
    {
        string wrong = new('a', 64);
        var app = TestServer.Build([$"--Dermxai:ExpectedModelSha256={wrong}"], "http", out _);
        var error = Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync())!;
        Assert.That(error.Message, Does.Contain("Model integrity check failed"));
        Assert.That(error.Message, Does.Contain(Sha256Of(TestServer.SmallModel).ToLowerInvariant()));
        Assert.That(error.Message, Does.Contain(wrong));
        await app.DisposeAsync();
    }

    [Test]
    public async Task A_model_matching_the_pin_is_served()
    {
        string expected = Sha256Of(TestServer.SmallModel); // upper-case hex: the comparison ignores case
        await using var server = await TestServer.StartAsync([$"--Dermxai:ExpectedModelSha256={expected}"]);
        using var channel = server.Channel();
        Assert.That(await Clients.ModelInfoStatusAsync(channel), Is.EqualTo(StatusCode.OK));
    }

    [TestCase("not-a-digest")]
    [TestCase("0123")]
    public async Task A_pin_that_is_not_a_sha256_is_refused(string pin)
    {
        var app = TestServer.Build([$"--Dermxai:ExpectedModelSha256={pin}"], "http", out _);
        var error = Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync())!;
        Assert.That(error.Message, Does.Contain("not a sha256 digest"));
        await app.DisposeAsync();
    }

    [Test]
    public void An_https_endpoint_without_a_certificate_is_refused()
    {
        // Kestrel reads its endpoints while the app is built: the refusal comes from Build.
        var error = Assert.Throws<InvalidOperationException>(() => TestServer.Build([], "https", out _))!;
        Assert.That(error.Message, Does.Contain("Dermxai:Tls:CertificatePath"));
    }

    [Test]
    public void Client_certificates_without_tls_are_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => TestServer.Build(["--Dermxai:Tls:ClientCertificateMode=Require"], "http", out _))!;
        Assert.That(error.Message, Does.Contain("client certificates need TLS"));
    }

    [Test]
    public void A_missing_token_file_is_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => TestServer.Build(["--Dermxai:Auth:TokenFile=/nonexistent/dermxai-tokens"], "http", out _))!;
        Assert.That(error.Message, Does.Contain("does not exist"));
    }
}
