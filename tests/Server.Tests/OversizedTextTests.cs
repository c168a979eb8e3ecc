using Grpc.Core;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Tests;

/// <summary>
/// Client strings of any length are quoted by at most a short prefix: a 1 MB method id, class label or
/// colormap gets a short INVALID_ARGUMENT, in unary calls and in streams, and the next call still works.
/// </summary>
public sealed class OversizedTextTests
{
    private const int MaxStatusMessage = 512;
    private static readonly string Megabyte = new('x', 1 << 20);

    private static Proto.ExplainRequest Explain() => new() { Image = ServiceTests.GoldenImage() };

    public static IEnumerable<TestCaseData> Requests()
    {
        yield return new TestCaseData(new Proto.ExplainRequest(Explain()) { Methods = { Megabyte } }).SetName("A 1 MB method id");
        yield return new TestCaseData(new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { ClassLabel = Megabyte } } })
            .SetName("A 1 MB class label");
        yield return new TestCaseData(new Proto.ExplainRequest(Explain()) { Outputs = new Proto.OutputOptions { Colormap = Megabyte } })
            .SetName("A 1 MB colormap");
    }

    [TestCaseSource(nameof(Requests))]
    public async Task Gets_a_short_invalid_argument_and_the_next_call_succeeds(Proto.ExplainRequest request)
    {
        var server = await TestServers.Get("small_f32");
        var e = Assert.ThrowsAsync<RpcException>(async () => await server.Client.ExplainAsync(request))!;
        TestContext.Out.WriteLine($"{e.StatusCode}: {e.Status.Detail}");
        Assert.That(e.StatusCode, Is.EqualTo(StatusCode.InvalidArgument));
        Assert.That(e.Status.Detail, Has.Length.LessThanOrEqualTo(MaxStatusMessage).And.Contain("(1048576 characters)"));

        var next = await server.Client.ExplainAsync(Explain());
        Assert.That(next.Explanations, Is.Not.Empty);
    }

    [Test]
    public async Task A_1_MB_method_id_and_label_in_a_stream_get_short_errors_and_the_stream_goes_on()
    {
        var server = await TestServers.Get("small_f32");
        using var stream = server.Client.ExplainStream();
        await stream.RequestStream.WriteAsync(new Proto.ExplainRequest(Explain()) { Methods = { Megabyte } });
        await stream.RequestStream.WriteAsync(new Proto.ExplainRequest(Explain()) { Targets = { new Proto.TargetSpec { ClassLabel = Megabyte } } });
        await stream.RequestStream.WriteAsync(Explain());
        await stream.RequestStream.CompleteAsync();
        var responses = new List<Proto.ExplainResponse>();
        await foreach (var response in stream.ResponseStream.ReadAllAsync()) responses.Add(response);

        Assert.That(responses, Has.Count.EqualTo(3));
        foreach (var refused in responses.Take(2))
        {
            Assert.That(refused.Error.Code, Is.EqualTo((int)StatusCode.InvalidArgument));
            Assert.That(refused.Error.Message, Has.Length.LessThanOrEqualTo(MaxStatusMessage));
        }
        Assert.That(responses[2].Error, Is.Null);
        Assert.That(responses[2].Explanations, Is.Not.Empty);
    }
}
