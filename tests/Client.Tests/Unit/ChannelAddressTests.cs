using Dermxai.Client.Connection;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;

namespace Dermxai.Client.Tests.Unit;

/// <summary>Server addresses: one server over http(s)://, every address of a name over dns:/// (round robin).</summary>
public sealed class ChannelAddressTests
{
    [TestCase("http://127.0.0.1:5000", true)]
    [TestCase("https://dermxai.clinic.example:5001", true)]
    [TestCase("dns:///dermxai.dermxai.svc.cluster.local:5001", true)]
    [TestCase("dns:///localhost:5000", true)]
    [TestCase("dns:///", false)]
    [TestCase("ftp://host:21", false)]
    [TestCase("127.0.0.1:5000", false)]
    public void Addresses_are_accepted_by_scheme(string address, bool valid) =>
        Assert.That(ChannelAddress.IsValid(address), Is.EqualTo(valid));

    [Test]
    public void A_dns_address_balances_round_robin_in_plaintext()
    {
        var options = new GrpcChannelOptions();
        ChannelAddress.Configure(options, "dns:///localhost:5000", tls: false);
        Assert.That(options.Credentials, Is.SameAs(ChannelCredentials.Insecure));
        Assert.That(options.ServiceConfig!.LoadBalancingConfigs.Single(), Is.InstanceOf<RoundRobinConfig>());
    }

    [Test]
    public void A_dns_address_with_tls_options_uses_tls()
    {
        var options = new GrpcChannelOptions();
        ChannelAddress.Configure(options, "dns:///localhost:5001", tls: true);
        Assert.That(options.Credentials, Is.SameAs(ChannelCredentials.SecureSsl));
    }

    [Test]
    public void An_http_address_keeps_the_channel_defaults()
    {
        var options = new GrpcChannelOptions();
        ChannelAddress.Configure(options, "http://127.0.0.1:5000", tls: false);
        Assert.That((options.Credentials, options.ServiceConfig), Is.EqualTo(((ChannelCredentials?)null, (ServiceConfig?)null)));
    }
}
