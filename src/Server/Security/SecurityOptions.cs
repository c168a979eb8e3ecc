namespace Dermxai.Server.Security;

/// <summary>
/// Access and integrity settings, bound from the same "Dermxai" section as <see cref="ServerOptions"/>:
/// Dermxai:Auth:*, Dermxai:Tls:* and Dermxai:ExpectedModelSha256. Everything is off by default.
/// </summary>
public sealed class SecurityOptions
{
    public AuthOptions Auth { get; set; } = new();
    public TlsOptions Tls { get; set; } = new();

    /// <summary>Hex sha256 the model file must have; the server refuses to start otherwise. Empty: no check.</summary>
    public string? ExpectedModelSha256 { get; set; }
}

/// <summary>Bearer tokens: every gRPC call except grpc.health.v1 must send "authorization: Bearer TOKEN".</summary>
public sealed class AuthOptions
{
    /// <summary>A file holding the accepted token(s), one per line; blank lines and lines starting with '#' are skipped.</summary>
    public string? TokenFile { get; set; }

    /// <summary>The name of an environment variable holding one accepted token (e.g. DERMXAI_TOKEN).</summary>
    public string? TokenEnvironmentVariable { get; set; }
}

/// <summary>TLS for https:// endpoints, optionally with client certificates (mutual TLS).</summary>
public sealed class TlsOptions
{
    /// <summary>The server certificate: a PEM file (with <see cref="KeyPath"/>) or a PFX/PKCS#12 file.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of a PEM certificate; empty when the key is in the certificate file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The password of a PFX file or of an encrypted PEM key.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// None (default): no client certificates. Optional: a client certificate, if sent, must chain to
    /// <see cref="ClientCaPath"/>. Require: as Optional, and calls without one get UNAUTHENTICATED
    /// (health checks excepted, so probes need no certificate).
    /// </summary>
    public ClientCertificateRequirement ClientCertificateMode { get; set; } = ClientCertificateRequirement.None;

    /// <summary>PEM file of the CA certificate(s) that client certificates must chain to.</summary>
    public string? ClientCaPath { get; set; }

    internal bool HasCertificate => !string.IsNullOrWhiteSpace(CertificatePath);
}

public enum ClientCertificateRequirement { None, Optional, Require }
