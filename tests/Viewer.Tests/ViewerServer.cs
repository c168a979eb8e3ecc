using Dermxai.Tests;
using Dermxai.TestSupport;
using Microsoft.AspNetCore.Builder;

namespace Dermxai.Viewer.Tests;

/// <summary>A real server on loopback (free ports) with the viewer on, on the bundled model, and a gRPC client.</summary>
internal sealed class ViewerServer : LoopbackServer
{
    internal static string BundledModel => Path.Combine(RepositoryPaths.Root, "models", "default", "model.onnx");

    private ViewerServer(WebApplication app, string[] addresses) : base(app, addresses) { }

    /// <summary>The viewer's endpoint (configured after gRPC's) when it is on.</summary>
    public string ViewerUrl => Addresses[1];

    /// <summary>Starts a server; <paramref name="args"/> add to (and may switch off) the viewer on a free port.</summary>
    internal static async Task<ViewerServer> StartAsync(params string[] args)
    {
        var (app, addresses) = await StartAppAsync(
        [
            "--model", BundledModel, "--device", "cpu", "--urls", "http://127.0.0.1:0", "--metrics-url", "",
            "--viewer", "true", "--viewer-url", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", .. args,
        ]);
        return new ViewerServer(app, addresses);
    }
}
