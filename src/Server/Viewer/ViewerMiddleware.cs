using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Dermxai.Server.Viewer;

/// <summary>
/// Answers requests on the viewer's endpoint: the page's three files (embedded in the server, so the
/// viewer works offline), the model card's warning, and the JSON routes (passed on, to the bearer-token
/// check and JSON transcoding); anything else there is 404. Other endpoints are passed on untouched.
/// </summary>
internal sealed class ViewerMiddleware(RequestDelegate next, IOptions<ServerOptions> options, IHostEnvironment environment)
{
    internal const string ModelCardPath = "/model-card";

    // The page loads nothing from elsewhere and may not be framed; images are the photo (blob:) and data: PNGs.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, (string Resource, string ContentType)> Files = new Dictionary<string, (string, string)>
    {
        ["/"] = ("index.html", "text/html; charset=utf-8"),
        ["/index.html"] = ("index.html", "text/html; charset=utf-8"),
        ["/viewer.js"] = ("viewer.js", "text/javascript; charset=utf-8"),
        ["/viewer.css"] = ("viewer.css", "text/css; charset=utf-8"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private readonly Lazy<string> _modelCard = new(() => JsonSerializer.Serialize(
        ModelCardWarning.Read(ModelPathResolver.Resolve(options.Value.Model, environment.ContentRootPath)), JsonSerializerOptions.Web));

    public async Task InvokeAsync(HttpContext context)
    {
        if (!ViewerConnection.Of(context) || RestApi.IsRestCall(context.Request))
        {
            await next(context);
            return;
        }
        var response = context.Response;
        string path = context.Request.Path.Value ?? "/";
        bool read = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = "no-store";
        if (read && Files.TryGetValue(path, out var file))
        {
            response.ContentType = file.ContentType;
            await using var stream = typeof(ViewerMiddleware).Assembly.GetManifestResourceStream("viewer/" + file.Resource)
                ?? throw new InvalidOperationException($"The viewer's {file.Resource} is not embedded in the server.");
            response.ContentLength = stream.Length;
            if (HttpMethods.IsGet(context.Request.Method)) await stream.CopyToAsync(response.Body, context.RequestAborted);
        }
        else if (read && path == ModelCardPath)
        {
            response.ContentType = "application/json; charset=utf-8";
            await response.WriteAsync(_modelCard.Value, context.RequestAborted);
        }
        else response.StatusCode = StatusCodes.Status404NotFound;
    }
}
