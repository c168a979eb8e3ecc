using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Dermxai.Server.Security;

/// <summary>
/// TLS on a Kestrel endpoint from <see cref="TlsOptions"/>: the server certificate from PEM or PFX and,
/// when client certificates are enabled, a handshake that asks for one and accepts it only if it chains
/// to the configured CA (a certificate from anyone else fails the handshake). Whether a certificate
/// is then required per call is the <see cref="AccessControlMiddleware"/>'s decision, so that health
/// probes without one still get through.
/// </summary>
internal static class KestrelTls
{
    private const string ClientAuthenticationOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>Serves this endpoint over TLS; throws with the setting to fix when the options are unusable.</summary>
    internal static void UseDermxaiTls(this ListenOptions listen, TlsOptions options)
    {
        if (!options.HasCertificate)
            throw new InvalidOperationException(
                $"Endpoint {listen.EndPoint} is https:// but no certificate is configured; set Dermxai:Tls:CertificatePath (PEM with Dermxai:Tls:KeyPath, or PFX).");
        var https = new HttpsConnectionAdapterOptions { ServerCertificate = LoadServerCertificate(options) };
        if (options.ClientCertificateMode != ClientCertificateRequirement.None)
        {
            var roots = LoadClientCas(options.ClientCaPath);
            https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
            https.ClientCertificateValidation = (certificate, _, _) => ChainsTo(certificate, roots);
        }
        listen.UseHttps(https);
    }

    internal static X509Certificate2 LoadServerCertificate(TlsOptions options)
    {
        string path = options.CertificatePath!;
        if (!File.Exists(path)) throw new InvalidOperationException($"Dermxai:Tls:CertificatePath {path} does not exist.");
        try
        {
            if (IsPem(path))
            {
                string keyPath = string.IsNullOrWhiteSpace(options.KeyPath) ? path : options.KeyPath;
                return string.IsNullOrEmpty(options.Password)
                    ? X509Certificate2.CreateFromPemFile(path, keyPath)
                    : X509Certificate2.CreateFromEncryptedPemFile(path, options.Password, keyPath);
            }
            return X509CertificateLoader.LoadPkcs12FromFile(path, options.Password);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException)
        {
            throw new InvalidOperationException(
                $"The TLS certificate {path} could not be loaded ({e.Message}); check Dermxai:Tls:CertificatePath, KeyPath and Password.", e);
        }
    }

    private static X509Certificate2Collection LoadClientCas(string? path)
    {
        if (string.IsNullOrWhiteSpace(path) || !File.Exists(path))
            throw new InvalidOperationException(
                $"Dermxai:Tls:ClientCertificateMode needs Dermxai:Tls:ClientCaPath, a PEM file of the CA(s) that sign client certificates{(string.IsNullOrWhiteSpace(path) ? "" : $"; {path} does not exist")}.");
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(path);
        if (roots.Count == 0) throw new InvalidOperationException($"Dermxai:Tls:ClientCaPath {path} holds no PEM certificate.");
        return roots;
    }

    /// <summary>Only the configured CAs are trusted (not the system store); the certificate must allow client authentication.</summary>
    internal static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection roots)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ClientAuthenticationOid));
        return chain.Build(certificate);
    }

    private static bool IsPem(string path)
    {
        using var reader = new StreamReader(path);
        var start = new char[256];
        int read = reader.ReadBlock(start, 0, start.Length);
        return new string(start, 0, read).Contains("-----BEGIN", StringComparison.Ordinal);
    }
}
