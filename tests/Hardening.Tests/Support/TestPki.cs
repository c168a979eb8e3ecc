using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dermxai.Hardening.Tests.Support;

/// <summary>
/// Throwaway certificates made at test time (never committed): a CA, server certificates for
/// 127.0.0.1/localhost and client certificates, written as PEM (and PFX) into a temp folder.
/// </summary>
internal sealed class TestPki : IDisposable
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    internal TestPki()
    {
        Folder = Directory.CreateTempSubdirectory("dermxai-pki-").FullName;
    }

    internal string Folder { get; }

    internal static X509Certificate2 CreateCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    internal static X509Certificate2 IssueServer(X509Certificate2 ca) => Issue(ca, "CN=dermxai-test-server", ServerAuthentication, withLoopbackNames: true);

    internal static X509Certificate2 IssueClient(X509Certificate2 ca, string name) => Issue(ca, $"CN={name}", ClientAuthentication, withLoopbackNames: false);

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject, Oid usage, bool withLoopbackNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        if (withLoopbackNames)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(12);
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes NAME.crt.pem and NAME.key.pem; returns their paths.</summary>
    internal (string Certificate, string Key) WritePem(X509Certificate2 certificate, string name)
    {
        string certificatePath = Path.Combine(Folder, name + ".crt.pem"), keyPath = Path.Combine(Folder, name + ".key.pem");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    /// <summary>Writes the certificate alone (no key), as a CA bundle is written.</summary>
    internal string WriteCertificatePem(X509Certificate2 certificate, string name)
    {
        string path = Path.Combine(Folder, name + ".crt.pem");
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }

    internal string WritePfx(X509Certificate2 certificate, string name, string password)
    {
        string path = Path.Combine(Folder, name + ".pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, password));
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
