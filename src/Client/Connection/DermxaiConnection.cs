using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using Dermxai.Protocol.V1;

namespace Dermxai.Client.Connection;

/// <summary>One channel to the server with its clients, and the per-call options (deadline, token).</summary>
internal sealed class DermxaiConnection : IDisposable
{
    private const int MaxMessageBytes = 256 * 1024 * 1024;
    private readonly GrpcChannel _channel;
    private readonly TimeSpan? _deadline;
    private readonly Metadata _headers = new();

    private DermxaiConnection(string address, GrpcChannel channel, TimeSpan? deadline, string? token)
    {
        Address = address;
        _channel = channel;
        _deadline = deadline;
        if (token is not null) _headers.Add("authorization", "Bearer " + token);
        Service = new Protocol.V1.Dermxai.DermxaiClient(channel);
        Health = new Health.HealthClient(channel);
    }

    public Protocol.V1.Dermxai.DermxaiClient Service { get; }
    public Health.HealthClient Health { get; }
    /// <summary>The server's URL, as given.</summary>
    public string Address { get; }

    public static DermxaiConnection Open(ServerSettings settings)
    {
        var options = new GrpcChannelOptions
        {
            HttpHandler = CreateHandler(settings),
            MaxReceiveMessageSize = MaxMessageBytes,
            MaxSendMessageSize = MaxMessageBytes,
            ServiceConfig = RetryOnUnavailable(settings.Retries),
            MaxRetryAttempts = settings.Retries + 1,
            MaxRetryBufferPerCallSize = MaxMessageBytes,
            MaxRetryBufferSize = 4L * MaxMessageBytes,
        };
        var deadline = settings.Deadline > 0 ? TimeSpan.FromSeconds(settings.Deadline) : (TimeSpan?)null;
        var address = settings.ResolveServer();
        return new DermxaiConnection(address, GrpcChannel.ForAddress(address, options), deadline, settings.ResolveToken());
    }

    /// <summary>Options for one call: the configured deadline from now, the token, the caller's token.</summary>
    public CallOptions Call(CancellationToken cancellation = default) =>
        new(headers: _headers, deadline: _deadline is { } d ? DateTime.UtcNow + d : null, cancellationToken: cancellation);

    public void Dispose() => _channel.Dispose();

    private static ServiceConfig? RetryOnUnavailable(int retries)
    {
        if (retries == 0) return null;
        var policy = new RetryPolicy
        {
            MaxAttempts = retries + 1,
            InitialBackoff = TimeSpan.FromMilliseconds(200),
            MaxBackoff = TimeSpan.FromSeconds(5),
            BackoffMultiplier = 2,
            RetryableStatusCodes = { StatusCode.Unavailable },
        };
        return new ServiceConfig { MethodConfigs = { new MethodConfig { Names = { MethodName.Default }, RetryPolicy = policy } } };
    }

    private static SocketsHttpHandler CreateHandler(ServerSettings settings)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            KeepAlivePingDelay = TimeSpan.FromSeconds(60),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        if (settings.ClientCert is not null)
            handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(settings.ClientCert, settings.ClientKey)];
        if (settings.TlsSkipVerify)
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        else if (settings.CaCert is not null)
            handler.SslOptions.RemoteCertificateValidationCallback = TrustOnly(LoadCertificates(settings.CaCert));
        return handler;
    }

    private static X509Certificate2Collection LoadCertificates(string pemFile)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(pemFile);
        return certificates;
    }

    /// <summary>Validates the server's chain against the given roots only (the system store is not consulted).</summary>
    private static RemoteCertificateValidationCallback TrustOnly(X509Certificate2Collection roots) =>
        (_, certificate, chain, errors) =>
        {
            if (certificate is null) return false;
            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
            using var customChain = new X509Chain();
            customChain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            customChain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            customChain.ChainPolicy.CustomTrustStore.AddRange(roots);
            if (chain is not null) customChain.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
            return customChain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        };
}
