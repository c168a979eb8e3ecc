using System.Collections.Concurrent;
using Dermxai.Server;
using Microsoft.AspNetCore.Builder;

namespace Dermxai.Tests;

/// <summary>A real server on loopback (free ports) with a generated client and its metrics endpoint.</summary>
internal sealed class TestServer : LoopbackServer
{
    private TestServer(WebApplication app, string[] addresses) : base(app, addresses) { }

    public string MetricsUrl => Addresses[1];

    internal static WebApplication Build(params string[] args) => DermxaiServerApp.Build(WithLoopbackDefaults(args));

    internal static async Task<TestServer> StartAsync(params string[] args)
    {
        var (app, addresses) = await StartAppAsync(WithLoopbackDefaults(args));
        return new TestServer(app, addresses);
    }

    internal async Task<string> ScrapeMetricsAsync()
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(MetricsUrl + "/metrics");
    }

    private static string[] WithLoopbackDefaults(string[] args) =>
        [.. args, "--urls", "http://127.0.0.1:0", "--metrics-url", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", "--device", "cpu"];
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
