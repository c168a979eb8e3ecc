using Dermxai.Hardening.Tests.Support;
using Grpc.Core;
using Grpc.Health.V1;

namespace Dermxai.Hardening.Tests.Fuzz;

/// <summary>
/// Bodies that are not valid protobuf at all, sent over a real socket with a byte-passing marshaller:
/// each must get INVALID_ARGUMENT (not UNKNOWN or INTERNAL), unary and streamed, and the server keeps serving.
/// </summary>
[TestFixture]
public sealed class RawMessageTests
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    [Test]
    public async Task Random_bodies_get_a_status_and_the_server_keeps_serving()
    {
        var server = await SharedServer.GetAsync();
        using var channel = server.Channel();
        var random = new Random(HostileCorpus.Seed);
        var statuses = new Dictionary<StatusCode, int>();
        foreach (string rpc in new[] { "Classify", "Explain", "GetModelInfo" })
        {
            var method = new Method<byte[], byte[]>(MethodType.Unary, "dermxai.v1.DermxaiService", rpc, Bytes, Bytes);
            for (int i = 0; i < 60; i++)
            {
                var body = new byte[random.Next(1, 512)];
                random.NextBytes(body);
                var status = await Clients.StatusOfAsync(async () =>
                    await channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)), body));
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
            }
        }
        var stream = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "dermxai.v1.DermxaiService", "ExplainStream", Bytes, Bytes);
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
        var classify = new Method<byte[], byte[]>(MethodType.Unary, "dermxai.v1.DermxaiService", "Classify", Bytes, Bytes);
        var refused = channel.CreateCallInvoker().AsyncUnaryCall(classify, null, new CallOptions(new Metadata { { "x-request-id", "raw-body-1" } }), [0xFF, 0xFF, 0xFF]);
        Assert.That((await Clients.StatusOfAsync(() => refused.ResponseAsync)), Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(refused.GetTrailers().GetValue("x-request-id") ?? (await refused.ResponseHeadersAsync).GetValue("x-request-id"), Is.EqualTo("raw-body-1"));
        Assert.That(refused.GetTrailers().GetRpcStatus()!.GetDetail<Google.Rpc.ErrorInfo>()!.Reason, Is.EqualTo(Engine.ErrorReasons.MalformedMessage));
        TestContext.Out.WriteLine("random protobuf bodies: " + string.Join(", ", statuses.Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.That(statuses.Keys, Is.All.EqualTo(StatusCode.InvalidArgument));
        Assert.That(await Clients.HealthAsync(channel), Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
    }
}
