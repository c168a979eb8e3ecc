using System.Net;
using System.Net.Sockets;
using Dermxai.Hardening.Tests.Support;
using Dermxai.Server;
using Dermxai.Protocol.V1;
using Dermxai.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Dermxai.Hardening.Tests.Overload;

/// <summary>
/// What an orchestrator sees around a SIGTERM: health turns NOT_SERVING the moment shutdown begins,
/// while accepted calls are still draining (not only after they finished), and every accepted call
/// completes. Served on the bundled default model, which is also warmed before SERVING.
/// </summary>
[TestFixture]
public sealed class ShutdownHealthTests
{
    private const int Calls = 6;
    private static string DefaultModel => Path.Combine(RepositoryPaths.Root, "models", "default", "model.onnx");

    [Test]
    public async Task Health_turns_not_serving_before_in_flight_calls_have_drained()
    {
        string url = $"http://127.0.0.1:{FreePort()}";
        var app = DermxaiServerApp.Build(["--model", DefaultModel, "--urls", url, "--metrics-url", "", "--device", "cpu",
            "--Logging:Console:LogLevel:Default=Warning"]);
        await app.StartAsync();
        var health = app.Services.GetRequiredService<HealthServiceImpl>();
        using var channel = GrpcChannel.ForAddress(url, new GrpcChannelOptions { MaxReceiveMessageSize = 256 * 1024 * 1024 });
        Assert.That(await Clients.HealthAsync(channel), Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving),
            "SERVING once the model is loaded and warmed");

        var client = new Protocol.V1.DermxaiService.DermxaiServiceClient(channel);
        var photo = File.ReadAllBytes(Path.Combine(RepositoryPaths.Root, "samples", "images", "sample_000000.png"));
        var request = new ExplainRequest
        {
            Image = new ImageInput { Encoded = ByteString.CopyFrom(photo) },
            Methods = { "transformer_attribution", "lrp_rollout" },
            Targets = { new TargetSpec { TopClasses = 2 } },
            Outputs = new OutputOptions { IncludeOverlayPng = true, IncludeHeatmapPng = true },
        };
        var calls = Enumerable.Range(0, Calls).Select(_ => client.ExplainAsync(request, deadline: DateTime.UtcNow.AddSeconds(120))).ToArray();
        await Task.WhenAll(calls.Select(c => c.ResponseHeadersAsync));

        var stopping = app.StopAsync();
        var statusDuringDrain = (await health.Check(new HealthCheckRequest(), null!)).Status;
        var serviceStatusDuringDrain = (await health.Check(new HealthCheckRequest { Service = "dermxai.v1.DermxaiService" }, null!)).Status;
        int stillRunning = calls.Count(c => !c.ResponseAsync.IsCompleted);
        var statuses = await Task.WhenAll(calls.Select(c => Clients.StatusOfAsync(() => c.ResponseAsync)));
        await stopping;
        TestContext.Out.WriteLine($"{stillRunning} of {Calls} accepted calls were still running when health was read");

        Assert.That(stillRunning, Is.GreaterThan(0), "health must be read while calls are draining");
        Assert.That(statusDuringDrain, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.NotServing));
        Assert.That(serviceStatusDuringDrain, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.NotServing));
        Assert.That(statuses, Is.All.EqualTo(StatusCode.OK), "every accepted call completes");
        await app.DisposeAsync();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
