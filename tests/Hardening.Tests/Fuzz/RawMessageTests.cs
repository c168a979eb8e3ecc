using Dermxai.Hardening.Tests.Support;
using Grpc.Core;
using Grpc.Health.V1;

namespace Dermxai.Hardening.Tests.Fuzz;

/// <summary>
/// Bodies that are not valid protobuf at all, sent over a real socket with a byte-passing marshaller:
/// the framework refuses them before the service runs; the server must answer each and keep serving.
/// </summary>
[TestFixture]
public sealed class RawMessageTests
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    [Test]
    public async Task Random_bodies_get_a_status_and_the_server_keeps_serving()
    {
        await using var server = await TestServer.StartAsync([]);
        using var channel = server.Channel();
        var random = new Random(HostileCorpus.Seed);
        var statuses = new Dictionary<StatusCode, int>();
        foreach (string rpc in new[] { "Classify", "Explain", "GetModelInfo" })
        {
            var method = new Method<byte[], byte[]>(MethodType.Unary, "dermxai.v1.Dermxai", rpc, Bytes, Bytes);
            for (int i = 0; i < 60; i++)
            {
                var body = new byte[random.Next(1, 512)];
                random.NextBytes(body);
                var status = await Clients.StatusOfAsync(async () =>
                    await channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), body));
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
            }
        }
        var stream = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "dermxai.v1.Dermxai", "ExplainStream", Bytes, Bytes);
        for (int i = 0; i < 20; i++)
        {
            var body = new byte[random.Next(1, 512)];
            random.NextBytes(body);
            var status = await Clients.StatusOfAsync(async () =>
            {
                using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(stream, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)));
                await call.RequestStream.WriteAsync(body);
                await call.RequestStream.CompleteAsync();
                while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
            });
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
        }
        TestContext.Out.WriteLine("random protobuf bodies: " + string.Join(", ", statuses.Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.That(statuses.Keys, Is.All.EqualTo(StatusCode.InvalidArgument));
        Assert.That(await Clients.HealthAsync(channel), Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
    }
}
