using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;

namespace Dermxai.Client.Connection;

/// <summary>
/// Server addresses: http:// and https:// reach one server; dns:///host:port resolves the name to
/// every address it has (a Kubernetes headless Service, several A records) and spreads calls over
/// them round robin, one HTTP/2 connection each, re-resolving when a server goes away. dns:// is
/// plaintext unless a TLS option (--ca-cert, --client-cert, --tls-skip-verify) is given.
/// </summary>
internal static class ChannelAddress
{
    public static bool IsDns(string address) => address.StartsWith("dns:", StringComparison.OrdinalIgnoreCase);

    public static bool IsValid(string address)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri)) return false;
        return uri.Scheme switch
        {
            "http" or "https" => true,
            "dns" => uri.AbsolutePath.Trim('/').Length > 0,
            _ => false,
        };
    }

    /// <summary>For dns: addresses, round-robin balancing and the transport's credentials.</summary>
    public static void Configure(GrpcChannelOptions options, string address, bool tls)
    {
        if (!IsDns(address)) return;
        options.Credentials = tls ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure;
        options.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } };
    }
}
