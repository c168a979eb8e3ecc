using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Dermxai.Protocol.V1;

namespace Dermxai.Client.Connection;

/// <summary>One channel to the server with its clients; every call gets the deadline and the token, and UNAVAILABLE retries.</summary>
internal sealed class DermxaiConnection : IDisposable
{
    // Overlays of large photos exceed gRPC's 4 MB default; the server enforces its own limits.
    private const int MaxMessageBytes = 256 * 1024 * 1024;
    private readonly GrpcChannel _channel;
    private readonly TimeSpan? _deadline;
    private readonly Metadata _headers = new();
    private readonly UnavailableRetry _retry;

    private DermxaiConnection(string address, GrpcChannel channel, TimeSpan? deadline, string? token, UnavailableRetry retry)
    {
        Address = address;
        _channel = channel;
        _deadline = deadline;
        _retry = retry;
        if (token is not null) _headers.Add("authorization", "Bearer " + token);
        Service = new Protocol.V1.DermxaiService.DermxaiServiceClient(channel);
        Health = new Health.HealthClient(channel);
    }

    public Protocol.V1.DermxaiService.DermxaiServiceClient Service { get; }
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
        };
        var deadline = settings.Deadline > 0 ? TimeSpan.FromSeconds(settings.Deadline) : (TimeSpan?)null;
        var address = settings.ResolveServer();
        ChannelAddress.Configure(options, address, tls: settings.CaCert is not null || settings.ClientCert is not null || settings.TlsSkipVerify);
        var retry = new UnavailableRetry(settings.Retries, UnavailableRetry.DefaultInitialBackoff, UnavailableRetry.DefaultMaxBackoff);
        return new DermxaiConnection(address, GrpcChannel.ForAddress(address, options), deadline, settings.ResolveToken(), retry);
    }

    /// <summary>One unary call with the connection's options, retried on UNAVAILABLE.</summary>
    public Task<T> UnaryAsync<T>(Func<CallOptions, AsyncUnaryCall<T>> call, CancellationToken cancellation) =>
        _retry.CallAsync(call, Call(cancellation));

    /// <summary>Options for one logical call: the configured deadline from now, the bearer token, cancellation.</summary>
    private CallOptions Call(CancellationToken cancellation) =>
        new(headers: _headers, deadline: _deadline is { } d ? DateTime.UtcNow + d : null, cancellationToken: cancellation);

    public void Dispose() => _channel.Dispose();

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
