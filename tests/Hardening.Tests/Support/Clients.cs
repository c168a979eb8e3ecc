using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Dermxai.Protocol.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace Dermxai.Hardening.Tests.Support;

/// <summary>Client-side helpers: TLS handlers, the calls every access test makes, the status a call ended with.</summary>
internal static class Clients
{
    /// <summary>A handler that trusts only <paramref name="ca"/> and optionally presents a client certificate.</summary>
    internal static SocketsHttpHandler TrustingOnly(X509Certificate2 ca, X509Certificate2? clientCertificate = null)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(certificate));
        };
        if (clientCertificate is not null) handler.SslOptions.ClientCertificates = [clientCertificate];
        return handler;
    }

    internal static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };

    /// <summary>GetModelInfo: the cheapest protected call.</summary>
    internal static async Task<StatusCode> ModelInfoStatusAsync(GrpcChannel channel, Metadata? headers = null)
    {
        var client = new Protocol.V1.DermxaiService.DermxaiServiceClient(channel);
        return await StatusOfAsync(async () => await client.GetModelInfoAsync(new GetModelInfoRequest(), headers, DateTime.UtcNow.AddSeconds(30)));
    }

    internal static async Task<HealthCheckResponse.Types.ServingStatus> HealthAsync(GrpcChannel channel) =>
        (await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30))).Status;

    /// <summary>OK, or the status code of the RpcException the call threw.</summary>
    internal static async Task<StatusCode> StatusOfAsync(Func<Task> call)
    {
        try
        {
            await call();
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
