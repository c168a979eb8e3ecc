using System.Net;
using System.Net.Sockets;
using Dermxai.Server;
using Microsoft.AspNetCore.Builder;

namespace Dermxai.Client.Tests.EndToEnd;

/// <summary>
/// The real Dermxai server, started once in-process on a free loopback port for every end-to-end
/// test in this namespace, serving the golden small model (112×112, 7 classes, 7×7 grid).
/// </summary>
[SetUpFixture]
public sealed class LiveServer
{
    private static WebApplication? _app;

    public static string Url { get; private set; } = "";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var model = TestPaths.RequireSmallModel();
        Url = $"http://127.0.0.1:{FreePort()}";
        _app = DermxaiServerApp.Build(["--model", model, "--urls", Url, "--metrics-url", "", "--device", "cpu"]);
        await _app.StartAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A port nobody listens on (the OS picks it; it is free again once the probe closes).</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
