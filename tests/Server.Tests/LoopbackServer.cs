using Dermxai.Server;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Tests;

/// <summary>
/// A real server on loopback (free ports) with a generated gRPC client on its first endpoint. Shared by
/// the server and viewer tests (linked into Viewer.Tests).
/// </summary>
internal class LoopbackServer : IAsyncDisposable
{
    protected LoopbackServer(WebApplication app, string[] addresses)
    {
        App = app;
        Addresses = addresses;
        Channel = GrpcChannel.ForAddress(addresses[0], new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
        Client = new Proto.DermxaiService.DermxaiServiceClient(Channel);
    }

    public WebApplication App { get; }
    /// <summary>The bound endpoints in the order they were configured (gRPC first).</summary>
    public string[] Addresses { get; }
    public string GrpcUrl => Addresses[0];
    public GrpcChannel Channel { get; }
    public Proto.DermxaiService.DermxaiServiceClient Client { get; }

    /// <summary>Builds the server from <paramref name="args"/>, starts it and reads the addresses it bound.</summary>
    protected static async Task<(WebApplication App, string[] Addresses)> StartAppAsync(string[] args)
    {
        var app = DermxaiServerApp.Build(args);
        await app.StartAsync();
        return (app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
