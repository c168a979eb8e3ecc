using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Dermxai.Server.Security;
using Dermxai.Server.Viewer;
using Prometheus;

namespace Dermxai.Server;

/// <summary>
/// Builds the Dermxai gRPC server from command-line arguments. Program.cs runs it; tests start it
/// in-process (e.g. <c>--model PATH --urls http://127.0.0.1:0 --metrics-url ""</c>).
/// Settings: section "Dermxai" of appsettings.json, DERMXAI__* environment variables, command line.
/// </summary>
public static class DermxaiServerApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddCommandLine(args, ServerCommandLine.Mappings());
        var section = builder.Configuration.GetSection(ServerOptions.Section);
        ServerOptionsValidation.AddServerOptions(builder.Services, section);
        var settings = section.Get<ServerOptions>() ?? new ServerOptions();

        if (settings.JsonLogs) { builder.Logging.ClearProviders(); builder.Logging.AddJsonConsole(o => o.IncludeScopes = true); }
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(settings.ShutdownTimeoutSeconds));
        var security = builder.AddDermxaiSecurity();
        ConfigureKestrel(builder, settings, security.Tls);
        builder.AddDermxaiViewer(security.Tls);

        builder.Services.AddSingleton<ServerMetrics>();
        builder.Services.AddEngineHealth();
        builder.Services.AddSingleton<EngineHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EngineHost>());
        var grpc = builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = settings.MaxReceiveMessageSize;
            o.MaxSendMessageSize = settings.MaxSendMessageSize;
            o.EnableDetailedErrors = false;
            o.Interceptors.Add<CallInterceptor>();
        });
        builder.Services.AddDermxaiRest(grpc);
        builder.Services.AddGrpcReflection();

        var app = builder.Build();
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseDermxaiRestErrorBounds();
        app.UseDermxaiAccessControl();
        app.UseDermxaiViewer();
        app.MapDermxaiOpenApi();
        app.MapGrpcService<DermxaiService>();
        app.MapGrpcHealthChecksService().AllowAnonymous();
        app.MapGrpcReflectionService();
        if (!string.IsNullOrWhiteSpace(settings.MetricsUrl)) app.MapMetrics("/metrics").AllowAnonymous();
        return app;
    }

    /// <summary>gRPC endpoints speak HTTP/2 (plaintext for http://, TLS for https://); the metrics endpoint HTTP/1.1.</summary>
    private static void ConfigureKestrel(WebApplicationBuilder builder, ServerOptions settings, TlsOptions tls)
    {
        string urls = !string.IsNullOrWhiteSpace(settings.Urls) ? settings.Urls
            : builder.Configuration["urls"] is { Length: > 0 } given ? given
            : ServerOptions.DefaultUrls;
        var grpcUrls = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        SecurityRegistration.CheckTlsConsistency(tls, grpcUrls);
        var grpcEndpoints = grpcUrls.Select(ParseEndpoint).ToList();
        var metricsEndpoint = string.IsNullOrWhiteSpace(settings.MetricsUrl) ? null : ParseEndpoint(settings.MetricsUrl);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var endpoint in grpcEndpoints)
                Listen(kestrel, endpoint, HttpProtocols.Http2, tls);
            if (metricsEndpoint is not null)
                Listen(kestrel, metricsEndpoint, HttpProtocols.Http1, tls);
        });
    }

    /// <summary>
    /// Listens where <paramref name="endpoint"/> says, as Kestrel's own --urls does: localhost on loopback,
    /// an IPv4 or IPv6 literal on that address, and *, + or any host name on every interface.
    /// </summary>
    internal static void Listen(KestrelServerOptions kestrel, BindingAddress endpoint, HttpProtocols protocols, TlsOptions tls, Action<ListenOptions>? more = null)
    {
        Action<ListenOptions> configure = l => { l.Protocols = protocols; l.UseScheme(endpoint.Scheme, endpoint.ToString(), tls); more?.Invoke(l); };
        if (string.Equals(endpoint.Host, "localhost", StringComparison.OrdinalIgnoreCase)) kestrel.ListenLocalhost(endpoint.Port, configure);
        else if (IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var ip)) kestrel.Listen(ip, endpoint.Port, configure);
        else kestrel.ListenAnyIP(endpoint.Port, configure);
    }

    /// <summary>A URL of --urls, --metrics-url or --viewer-url; refuses the start with a sentence when it is not one.</summary>
    internal static BindingAddress ParseEndpoint(string url)
    {
        try { return BindingAddress.Parse(url); }
        catch (FormatException e)
        {
            throw new InvalidOperationException(
                $"Endpoint '{url}' is not a URL like http://HOST:PORT (HOST: a name, localhost, *, +, an IPv4 address or [IPv6]); check --urls, --metrics-url and --viewer-url.", e);
        }
    }
}
