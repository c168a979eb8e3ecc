using System.Security.Cryptography.X509Certificates;
using Dermxai.Hardening.Tests.Support;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Dermxai.Hardening.Tests.Access;

/// <summary>A TLS server from a throwaway CA's PEM certificate, with settings per fixture; certificates deleted afterwards.</summary>
public abstract class TlsServerFixture
{
    private protected TestPki Pki { get; private set; } = null!;
    private protected X509Certificate2 Ca { get; private set; } = null!;
    private protected TestServer Server { get; private set; } = null!;

    /// <summary>Settings besides the server certificate and key.</summary>
    private protected virtual IEnumerable<string> MoreSettings() => [];

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        Pki = new TestPki();
        Ca = TestPki.CreateCa("Dermxai test CA");
        var (certificate, key) = Pki.WritePem(TestPki.IssueServer(Ca), "server");
        Server = await TestServer.StartAsync([$"--Dermxai:Tls:CertificatePath={certificate}", $"--Dermxai:Tls:KeyPath={key}", .. MoreSettings()], "https");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await Server.DisposeAsync();
        Pki.Dispose();
    }
}

/// <summary>TLS from a configured PEM certificate and key, and from a password-protected PFX.</summary>
[TestFixture]
public sealed class TlsTests : TlsServerFixture
{
    [Test]
    public async Task A_client_that_trusts_the_ca_gets_answers_over_tls()
    {
        using var channel = Server.Channel(Clients.TrustingOnly(Ca));
        Assert.That(await Clients.ModelInfoStatusAsync(channel), Is.EqualTo(StatusCode.OK));
        Assert.That(await Clients.HealthAsync(channel), Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
    }

    [Test]
    public async Task A_client_that_does_not_trust_the_certificate_is_refused()
    {
        using var channel = Server.Channel(Clients.TrustingOnly(TestPki.CreateCa("Some other CA")));
        var client = new Protocol.V1.DermxaiService.DermxaiServiceClient(channel);
        var error = Assert.ThrowsAsync<RpcException>(async () => await client.GetModelInfoAsync(new Protocol.V1.GetModelInfoRequest()))!;
        Assert.That(error.Status.DebugException?.ToString() ?? error.Status.Detail, Does.Contain("SSL"));
        await Task.CompletedTask;
    }

    [Test]
    public async Task A_plaintext_client_gets_nothing_from_the_tls_port()
    {
        using var channel = GrpcChannel.ForAddress(Server.Url.Replace("https://", "http://"));
        Assert.That(await Clients.ModelInfoStatusAsync(channel), Is.Not.EqualTo(StatusCode.OK));
    }

    [Test]
    public async Task A_pfx_certificate_with_a_password_serves_tls_too()
    {
        string pfx = Pki.WritePfx(TestPki.IssueServer(Ca), "server-pfx", "pfx-pass-9");
        await using var server = await TestServer.StartAsync([$"--Dermxai:Tls:CertificatePath={pfx}", "--Dermxai:Tls:Password=pfx-pass-9"], "https");
        using var channel = server.Channel(Clients.TrustingOnly(Ca));
        Assert.That(await Clients.ModelInfoStatusAsync(channel), Is.EqualTo(StatusCode.OK));
    }
}

/// <summary>Client certificates required: without one UNAUTHENTICATED (health excepted); one from another CA fails the handshake.</summary>
[TestFixture]
public sealed class MutualTlsTests : TlsServerFixture
{
    private protected override IEnumerable<string> MoreSettings() =>
        ["--Dermxai:Tls:ClientCertificateMode=Require", $"--Dermxai:Tls:ClientCaPath={Pki.WriteCertificatePem(Ca, "client-ca")}"];

    [Test]
    public async Task A_client_certificate_from_the_ca_is_accepted()
    {
        using var channel = Server.Channel(Clients.TrustingOnly(Ca, TestPki.IssueClient(Ca, "clinic-a")));
        Assert.That(await Clients.ModelInfoStatusAsync(channel), Is.EqualTo(StatusCode.OK));
    }

    [Test]
    public async Task ACall_without_a_client_certificate_is_unauthenticated()
    {
        using var channel = Server.Channel(Clients.TrustingOnly(Ca));
        Assert.That(await Clients.ModelInfoStatusAsync(channel), Is.EqualTo(StatusCode.Unauthenticated));
    }

    [Test]
    public async Task Health_probes_need_no_client_certificate()
    {
        using var channel = Server.Channel(Clients.TrustingOnly(Ca));
        Assert.That(await Clients.HealthAsync(channel), Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
    }

    [Test]
    public async Task A_client_certificate_from_anotherCa_is_refused_at_the_handshake()
    {
        var stranger = TestPki.CreateCa("Stranger CA");
        using var channel = Server.Channel(Clients.TrustingOnly(Ca, TestPki.IssueClient(stranger, "intruder")));
        Assert.That(await Clients.ModelInfoStatusAsync(channel), Is.EqualTo(StatusCode.Unavailable));
    }

    [Test]
    public async Task A_server_certificate_is_not_accepted_as_a_client_certificate()
    {
        using var channel = Server.Channel(Clients.TrustingOnly(Ca, TestPki.IssueServer(Ca)));
        Assert.That(await Clients.ModelInfoStatusAsync(channel), Is.EqualTo(StatusCode.Unavailable));
    }
}
