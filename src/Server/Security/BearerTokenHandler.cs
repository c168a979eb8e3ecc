using System.Diagnostics;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Dermxai.Server.Security;

/// <summary>
/// The "Bearer" authentication scheme: a caller is authenticated when it sends an accepted token
/// (<see cref="BearerTokens"/>, when tokens are configured) and, with Tls:ClientCertificateMode=Require,
/// a client certificate. Its challenge is the UNAUTHENTICATED refusal: a trailers-only gRPC response
/// (or, for a JSON route, a google.rpc.Status body with HTTP 401), written by the authorization
/// middleware before the endpoint runs, so before the request body is read.
/// </summary>
internal sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggers, UrlEncoder encoder,
    BearerTokens tokens, IOptions<SecurityOptions> security, ServerMetrics metrics)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggers, encoder)
{
    internal const string SchemeName = "Bearer";
    private const string MissingToken = "Missing bearer token; send metadata (or the HTTP header) 'authorization: Bearer TOKEN'.";
    private const string MissingCertificate = "This server requires a client certificate (mutual TLS) signed by its client CA.";

    /// <summary>Whether any check is configured; without one no caller policy is set and this handler never runs.</summary>
    internal static bool IsNeeded(BearerTokens tokens, SecurityOptions options) =>
        tokens.Required || options.Tls.ClientCertificateMode == ClientCertificateRequirement.Require;

    /// <summary>Nothing presented is no result (as probes send); a presented but refused credential fails.</summary>
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? refusal = RefusalOf(Context);
        if (refusal is null)
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(SchemeName)), SchemeName)));
        return Task.FromResult(refusal == MissingToken ? AuthenticateResult.NoResult() : AuthenticateResult.Fail(refusal));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        RefuseAsync(RefusalOf(Context) ?? MissingToken);

    private string? RefusalOf(HttpContext context)
    {
        if (security.Value.Tls.ClientCertificateMode == ClientCertificateRequirement.Require && context.Connection.ClientCertificate is null)
            return MissingCertificate;
        if (!tokens.Required) return null;
        var authorization = context.Request.Headers.Authorization;
        if (authorization.Count != 1) return MissingToken;
        return tokens.Accepts(authorization[0]) ? null : "The bearer token is not accepted.";
    }

    /// <summary>A trailers-only gRPC response (status and message in the headers, no body), or the JSON status of a /v1 route.</summary>
    private Task RefuseAsync(string reason)
    {
        var clock = Stopwatch.StartNew();
        string requestId = RequestIds.Of(Context);
        string rpc = RpcLabels.Of(Request.Path.Value);
        using (Logger.BeginScope(RequestIds.LogScope(requestId, rpc)))
            Logger.LogWarning("{Rpc} {RequestId} Unauthenticated: {Reason}", rpc, requestId, reason);

        metrics.RecordRequest(rpc, StatusCode.Unauthenticated, clock.Elapsed);
        if (RestApi.IsRestCall(Request))
            return RestApi.WriteStatusAsync(Context, StatusCode.Unauthenticated, Engine.ErrorReasons.Unauthenticated, reason);
        Response.StatusCode = StatusCodes.Status200OK;
        Response.ContentType = "application/grpc";
        Response.Headers["grpc-status"] = ((int)StatusCode.Unauthenticated).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Response.Headers["grpc-message"] = reason;
        Response.Headers["grpc-status-details-bin"] = ErrorMapping.DetailsHeader(StatusCode.Unauthenticated, Engine.ErrorReasons.Unauthenticated, reason);
        return Task.CompletedTask;
    }
}

/// <summary>
/// The caller policy's requirement: a gRPC call or a JSON call of a /v1 route needs an authenticated
/// caller; other requests (the OpenAPI document, paths no endpoint serves outside gRPC) are not guarded,
/// and health and metrics are exempt by <c>AllowAnonymous</c>. Being its own handler, it needs no registration.
/// </summary>
internal sealed class AuthenticatedServiceCallRequirement : AuthorizationHandler<AuthenticatedServiceCallRequirement>, IAuthorizationRequirement
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AuthenticatedServiceCallRequirement requirement)
    {
        bool guarded = context.Resource is not HttpContext http || RequestIds.IsServiceCall(http.Request);
        if (!guarded || context.User.Identity?.IsAuthenticated == true) context.Succeed(requirement);
        return Task.CompletedTask;
    }
}
