using System.Diagnostics;
using Grpc.Core;

namespace Dermxai.Server.Security;

/// <summary>
/// Lets a gRPC call through only with an accepted bearer token and, when required, a client
/// certificate; otherwise answers UNAUTHENTICATED at once, before the request body is read (so an
/// unauthenticated caller cannot make the server parse large messages). grpc.health.v1 stays open for
/// probes; the JSON routes (/v1/...) are guarded the same way; other requests (metrics, the OpenAPI
/// document) pass untouched.
/// </summary>
internal sealed class AccessControlMiddleware(
    RequestDelegate next, BearerTokens tokens, SecurityOptions options, ServerMetrics metrics, ILogger<AccessControlMiddleware> logger)
{
    private const string HealthServicePrefix = "/grpc.health.v1.Health/";

    /// <summary>Whether any check is configured; without one the middleware is not added at all.</summary>
    internal static bool IsNeeded(BearerTokens tokens, SecurityOptions options) =>
        tokens.Required || options.Tls.ClientCertificateMode == ClientCertificateRequirement.Require;

    public Task InvokeAsync(HttpContext context)
    {
        if (!RequestIds.IsServiceCall(context.Request) || context.Request.Path.StartsWithSegments(HealthServicePrefix.TrimEnd('/'))) return next(context);
        string? refusal = RefusalOf(context);
        return refusal is null ? next(context) : RefuseAsync(context, refusal);
    }

    private string? RefusalOf(HttpContext context)
    {
        if (options.Tls.ClientCertificateMode == ClientCertificateRequirement.Require && context.Connection.ClientCertificate is null)
            return "This server requires a client certificate (mutual TLS) signed by its client CA.";
        if (!tokens.Required) return null;
        string? authorization = context.Request.Headers.Authorization.Count == 1 ? context.Request.Headers.Authorization[0] : null;
        if (authorization is null) return "Missing bearer token; send metadata (or the HTTP header) 'authorization: Bearer TOKEN'.";
        return tokens.Accepts(authorization) ? null : "The bearer token is not accepted.";
    }

    /// <summary>A trailers-only gRPC response: status and message in the headers, no body.</summary>
    private Task RefuseAsync(HttpContext context, string reason)
    {
        var clock = Stopwatch.StartNew();
        string requestId = RequestIds.Of(context);
        string rpc = RpcLabels.Of(context.Request.Path.Value);
        using (logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = requestId, ["Rpc"] = rpc }))
            logger.LogWarning("{Rpc} {RequestId} Unauthenticated: {Reason}", rpc, requestId, reason);

        if (RestApi.IsRestCall(context.Request))
        {
            metrics.RecordRequest(rpc, StatusCode.Unauthenticated, clock.Elapsed);
            return RestApi.WriteStatusAsync(context, StatusCode.Unauthenticated, Engine.ErrorReasons.Unauthenticated, reason);
        }
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)StatusCode.Unauthenticated).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = reason;
        response.Headers["grpc-status-details-bin"] = ErrorMapping.DetailsHeader(StatusCode.Unauthenticated, Engine.ErrorReasons.Unauthenticated, reason);
        metrics.RecordRequest(rpc, StatusCode.Unauthenticated, clock.Elapsed);
        return Task.CompletedTask;
    }
}
