using Dermxai.Server.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Dermxai.Server.Viewer;

/// <summary>
/// Wires the viewer into <see cref="DermxaiServerApp"/> when Dermxai:Viewer:Enabled is true: an HTTP/1.1
/// listener whose connections are marked, and a middleware that answers on those connections only with
/// the page's files, the model card's warning and the JSON routes (which keep their bearer-token check).
/// </summary>
internal static class ViewerRegistration
{
    internal static void AddDermxaiViewer(this WebApplicationBuilder builder, TlsOptions tls)
    {
        var options = builder.Configuration.GetSection(ViewerOptions.Section).Get<ViewerOptions>() ?? new ViewerOptions();
        builder.Services.AddSingleton(options);
        if (!options.Enabled) return;
        var endpoint = DermxaiServerApp.ParseEndpoint(options.Url);
        builder.WebHost.ConfigureKestrel(kestrel => DermxaiServerApp.Listen(kestrel, endpoint, HttpProtocols.Http1, tls,
            listen => listen.Use(next => connection =>
            {
                connection.Features.Set(ViewerConnection.Instance);
                return next(connection);
            })));
    }

    internal static void UseDermxaiViewer(this WebApplication app)
    {
        if (app.Services.GetRequiredService<ViewerOptions>().Enabled) app.UseMiddleware<ViewerMiddleware>();
    }
}

/// <summary>The feature that marks a connection accepted on the viewer's endpoint.</summary>
internal sealed class ViewerConnection
{
    internal static readonly ViewerConnection Instance = new();

    internal static bool Of(HttpContext context) => context.Features.Get<ViewerConnection>() is not null;
}
