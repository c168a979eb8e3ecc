using Dermxai.Hardening.Tests.Support;

namespace Dermxai.Hardening.Tests;

/// <summary>
/// One plain server (default settings) shared by the tests that need nothing special, started on first
/// use: each start loads the ONNX sessions again, which is most of a server test's time.
/// </summary>
[SetUpFixture]
public sealed class SharedServer
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static TestServer? _server;

    internal static async Task<TestServer> GetAsync()
    {
        await Gate.WaitAsync();
        try { return _server ??= await TestServer.StartAsync([]); }
        finally { Gate.Release(); }
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        _server = null;
    }
}
