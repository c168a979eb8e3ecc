using System.Net;
using System.Net.Sockets;
using Dermxai.Server;
using Dermxai.Tests;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;

namespace Dermxai.Hardening.Tests.Support;

/// <summary>
/// The real Dermxai server (DermxaiServerApp.Build) started in-process on a free loopback port,
/// serving the golden small model (112×112, 7 classes) on the CPU, with extra settings per test.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    private TestServer(WebApplication app, string url)
    {
        App = app;
        Url = url;
    }

    internal WebApplication App { get; }
    internal string Url { get; }

    internal static string SmallModel => TestPaths.Model("small_f32");

    /// <summary>Starts a server; <paramref name="settings"/> are extra command-line arguments ("--Dermxai:Key=value").</summary>
    internal static async Task<TestServer> StartAsync(IEnumerable<string> settings, string scheme = "http", Action<WebApplication>? beforeStart = null)
    {
        var app = Build(settings, scheme, out string url);
        beforeStart?.Invoke(app);
        await app.StartAsync();
        return new TestServer(app, url);
    }

    /// <summary>Builds the app without starting it, for tests of start-up refusals.</summary>
    internal static WebApplication Build(IEnumerable<string> settings, string scheme, out string url)
    {
        url = $"{scheme}://127.0.0.1:{FreePort()}";
        // Console output only from warnings on (tests that read logs capture them with CapturedLogs).
        string[] args = ["--model", SmallModel, "--urls", url, "--metrics-url", "", "--device", "cpu",
            "--Logging:Console:LogLevel:Default=Warning", .. settings];
        return DermxaiServerApp.Build(args);
    }

    internal GrpcChannel Channel(HttpMessageHandler? handler = null) => GrpcChannel.ForAddress(Url, new GrpcChannelOptions
    {
        HttpHandler = handler ?? new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        MaxReceiveMessageSize = 256 * 1024 * 1024,
        MaxSendMessageSize = 256 * 1024 * 1024,
    });

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }

    internal static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
