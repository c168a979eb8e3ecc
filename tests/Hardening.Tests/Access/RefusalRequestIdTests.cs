using Dermxai.Hardening.Tests.Support;
using Grpc.Core;

namespace Dermxai.Hardening.Tests.Access;

/// <summary>Issue #17d: refusals that no interceptor sees (the gRPC framework's own) still carry the request id.</summary>
[TestFixture]
public sealed class RefusalRequestIdTests
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    private static async Task<(StatusCode Code, string? RequestId)> ClassifyRawAsync(byte[] body, Metadata? headers = null)
    {
        var server = await SharedServer.GetAsync();
        using var channel = server.Channel();
        var classify = new Method<byte[], byte[]>(MethodType.Unary, "dermxai.v1.DermxaiService", "Classify", Bytes, Bytes);
        using var call = channel.CreateCallInvoker().AsyncUnaryCall(classify, null, new CallOptions(headers, DateTime.UtcNow.AddSeconds(60)), body);
        var code = await Clients.StatusOfAsync(() => call.ResponseAsync);
        return (code, call.GetTrailers().GetValue("x-request-id") ?? (await call.ResponseHeadersAsync).GetValue("x-request-id"));
    }

    [Test]
    public async Task A_message_over_32_MiB_is_refused_with_the_callers_request_id()
    {
        var (code, requestId) = await ClassifyRawAsync(new byte[33 * 1024 * 1024], new Metadata { { "x-request-id", "big-body-1" } });
        Assert.That(code, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(requestId, Is.EqualTo("big-body-1"));
    }

    [Test]
    public async Task A_message_over_32_MiB_without_a_caller_id_gets_a_generated_one()
    {
        var (code, requestId) = await ClassifyRawAsync(new byte[33 * 1024 * 1024]);
        Assert.That(code, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(requestId, Does.Match("^[0-9a-f]{32}$"));
    }
}
