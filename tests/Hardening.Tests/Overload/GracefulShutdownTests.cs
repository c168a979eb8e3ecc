using Dermxai.Hardening.Tests.Fuzz;
using Dermxai.Hardening.Tests.Support;
using Dermxai.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Dermxai.Hardening.Tests.Overload;

/// <summary>Stopping the server while it is loaded: every call it had accepted completes; later calls are refused.</summary>
[TestFixture]
public sealed class GracefulShutdownTests
{
    private const int Calls = 24;

    [Test]
    public async Task Shutdown_during_load_completes_every_accepted_call()
    {
        var server = await TestServer.StartAsync([]);
        using var channel = server.Channel();
        var client = new Protocol.V1.DermxaiService.DermxaiServiceClient(channel);
        var request = new ExplainRequest
        {
            Image = new ImageInput { Encoded = ByteString.CopyFrom(SeedImages.Accepted[0].Bytes) },
            Methods = { "transformer_attribution", "generic_attention", "attention_rollout", "lrp_rollout" },
            Targets = { new TargetSpec { TopClasses = 3 } },
            Outputs = new OutputOptions { IncludeOverlayPng = true, IncludeHeatmapPng = true },
        };
        var calls = Enumerable.Range(0, Calls).Select(_ => client.ExplainAsync(request, deadline: DateTime.UtcNow.AddSeconds(120))).ToArray();
        // Response headers (x-request-id) are sent when the server takes the call, before any work.
        await Task.WhenAll(calls.Select(c => c.ResponseHeadersAsync));
        int inFlightAtStop = calls.Count(c => !c.ResponseAsync.IsCompleted);

        var stopping = server.App.StopAsync();
        var statuses = await Task.WhenAll(calls.Select(c => Clients.StatusOfAsync(() => c.ResponseAsync)));
        await stopping;
        TestContext.Out.WriteLine($"{inFlightAtStop} of {Calls} accepted calls were still running when shutdown began");

        Assert.That(inFlightAtStop, Is.GreaterThan(0), "the test must stop the server under load");
        Assert.That(statuses, Is.All.EqualTo(StatusCode.OK));
        Assert.That(await Clients.ModelInfoStatusAsync(channel), Is.EqualTo(StatusCode.Unavailable), "a stopped server takes no new call");
        await server.App.DisposeAsync();
    }
}
