using Dermxai.Server;
using Dermxai.TestSupport;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Viewer.Tests;

/// <summary>A real server on loopback (free ports) with the viewer on, on the bundled model, and a gRPC client.</summary>
internal sealed class ViewerServer : IAsyncDisposable
{
    internal static string BundledModel => Path.Combine(RepositoryPaths.Root, "models", "default", "model.onnx");

    private ViewerServer(WebApplication app, string[] addresses)
    {
        App = app;
        Addresses = addresses;
        Channel = GrpcChannel.ForAddress(addresses[0], new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
        Client = new Proto.DermxaiService.DermxaiServiceClient(Channel);
    }

    public WebApplication App { get; }
    /// <summary>The bound endpoints in the order they were configured: gRPC first, then the viewer's when it is on.</summary>
    public string[] Addresses { get; }
    public string GrpcUrl => Addresses[0];
    public string ViewerUrl => Addresses[1];
    public GrpcChannel Channel { get; }
    public Proto.DermxaiService.DermxaiServiceClient Client { get; }

    /// <summary>Starts a server; <paramref name="args"/> add to (and may switch off) the viewer on a free port.</summary>
    internal static async Task<ViewerServer> StartAsync(params string[] args)
    {
        var app = DermxaiServerApp.Build(
        [
            "--model", BundledModel, "--device", "cpu", "--urls", "http://127.0.0.1:0", "--metrics-url", "",
            "--viewer", "true", "--viewer-url", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", .. args,
        ]);
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToArray();
        return new ViewerServer(app, addresses);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
