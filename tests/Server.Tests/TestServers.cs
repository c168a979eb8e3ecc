using System.Collections.Concurrent;
using Dermxai.Server;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Tests;

/// <summary>A real server on loopback (free ports) with a generated client.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(WebApplication app, string grpcUrl, string metricsUrl)
    {
        App = app;
        GrpcUrl = grpcUrl;
        MetricsUrl = metricsUrl;
        Channel = GrpcChannel.ForAddress(grpcUrl, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
        Client = new Proto.DermxaiService.DermxaiServiceClient(Channel);
    }

    public WebApplication App { get; }
    public string GrpcUrl { get; }
    public string MetricsUrl { get; }
    public GrpcChannel Channel { get; }
    public Proto.DermxaiService.DermxaiServiceClient Client { get; }

    internal static WebApplication Build(params string[] args) => DermxaiServerApp.Build(
        [.. args, "--urls", "http://127.0.0.1:0", "--metrics-url", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", "--device", "cpu"]);

    internal static async Task<TestServer> StartAsync(params string[] args)
    {
        var app = Build(args);
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToArray();
        return new TestServer(app, addresses[0], addresses[1]);
    }

    internal async Task<string> ScrapeMetricsAsync()
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(MetricsUrl + "/metrics");
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>Servers shared by the whole run (LRP sessions take seconds to create), stopped at the end.</summary>
[SetUpFixture]
public sealed class TestServers
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<TestServer>>> Servers = new();

    /// <summary>A server for test model NAME; extra args distinguish differently configured servers.</summary>
    internal static Task<TestServer> Get(string model, params string[] extra) =>
        Servers.GetOrAdd(model + " " + string.Join(' ', extra), _ => new Lazy<Task<TestServer>>(() =>
            TestServer.StartAsync(["--model", TestPaths.Model(model), "--max-queue-delay-ms", "20", .. extra]))).Value;

    [OneTimeTearDown]
    public async Task StopAll()
    {
        foreach (var server in Servers.Values.Where(s => s.IsValueCreated))
            await (await server.Value).DisposeAsync();
    }
}
