using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dermxai.Server;
using Microsoft.AspNetCore.Builder;

namespace Dermxai.Client.Tests.EndToEnd;

/// <summary>
/// The CLI's --token-file, --ca-cert and --client-cert/--client-key against a real server that
/// requires a bearer token and a client certificate over TLS (certificates made here, per run).
/// </summary>
[TestFixture]
public sealed class SecureServerTests
{
    private const string Token = "s3cret-token-for-tests";
    private TempFolder _temp = null!;
    private WebApplication _app = null!;
    private string _url = "";

    [OneTimeSetUp]
    public async Task StartSecureServerAsync()
    {
        _temp = new TempFolder();
        TestCertificates.Write(_temp);
        File.WriteAllText(_temp.File("tokens.txt"), "# accepted tokens\n" + Token + "\n");
        _url = $"https://127.0.0.1:{LiveServer.FreePort()}";
        _app = DermxaiServerApp.Build([
            "--model", TestPaths.RequireSmallModel(), "--urls", _url, "--metrics-url", "", "--device", "cpu",
            "--Dermxai:Auth:TokenFile", _temp.File("tokens.txt"),
            "--Dermxai:Tls:CertificatePath", _temp.File("server.pem"), "--Dermxai:Tls:KeyPath", _temp.File("server.key"),
            "--Dermxai:Tls:ClientCertificateMode", "Require", "--Dermxai:Tls:ClientCaPath", _temp.File("ca.pem"),
        ]);
        await _app.StartAsync();
        File.WriteAllText(_temp.File("token.txt"), Token + "\n");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _temp.Dispose();
    }

    private string[] Tls(params string[] more) =>
        ["--server", _url, "--ca-cert", _temp.File("ca.pem"), "--client-cert", _temp.File("client.pem"), "--client-key", _temp.File("client.key"), "--retries", "0", .. more];

    [Test]
    public async Task With_the_token_and_certificates_the_call_succeeds()
    {
        var run = await CliRun.RunAsync(["classify", TestPaths.GoldenImages[0], .. Tls("--token-file", _temp.File("token.txt"))]);
        Assert.That(run.ExitCode, Is.EqualTo(0));
        Assert.That(run.Out, Does.Contain("class_0"));
    }

    [Test]
    public async Task Without_the_token_the_call_is_unauthenticated()
    {
        var run = await CliRun.RunAsync(["info", .. Tls()]);
        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.Contain("UNAUTHENTICATED"));
    }

    [Test]
    public async Task A_wrong_token_is_unauthenticated()
    {
        var run = await CliRun.RunAsync(["info", .. Tls("--token", "not-" + Token)]);
        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.Contain("UNAUTHENTICATED"));
    }

    [Test]
    public async Task A_server_certificate_from_an_untrusted_ca_is_refused()
    {
        var run = await CliRun.RunAsync("info", "--server", _url, "--token", Token, "--retries", "0",
            "--client-cert", _temp.File("client.pem"), "--client-key", _temp.File("client.key"));
        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.Contain("certificate"));
    }
}

/// <summary>A throwaway CA with a server certificate (127.0.0.1, localhost) and a client certificate, as PEM files.</summary>
internal static class TestCertificates
{
    public static void Write(TempFolder folder)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Dermxai test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));
        File.WriteAllText(folder.File("ca.pem"), ca.ExportCertificatePem());

        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        Issue(folder, ca, now, "server", "CN=127.0.0.1", "1.3.6.1.5.5.7.3.1", names.Build());
        Issue(folder, ca, now, "client", "CN=Dermxai test client", "1.3.6.1.5.5.7.3.2", null);
    }

    private static void Issue(TempFolder folder, X509Certificate2 ca, DateTimeOffset now, string name, string subject, string usageOid, X509Extension? alternativeNames)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usageOid)], false));
        if (alternativeNames is not null) request.CertificateExtensions.Add(alternativeNames);
        var serial = RandomNumberGenerator.GetBytes(12);
        using var certificate = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), serial);
        File.WriteAllText(folder.File($"{name}.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(folder.File($"{name}.key"), key.ExportPkcs8PrivateKeyPem());
    }
}
