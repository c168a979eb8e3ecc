using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Dermxai.Server.Security;

/// <summary>The few calls that wire access control, TLS and the model pin into <see cref="DermxaiServerApp"/>.</summary>
internal static class SecurityRegistration
{
    /// <summary>
    /// Binds the security settings, reads the bearer tokens (a configured but unreadable source stops
    /// the start), adds the bearer scheme with the caller policy as the fallback of every endpoint when
    /// tokens or client certificates are required, and registers the model pin. Call it before the
    /// engine's hosted service is added.
    /// </summary>
    internal static SecurityOptions AddDermxaiSecurity(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(ServerOptions.Section);
        builder.Services.AddOptions<SecurityOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        var options = section.Get<SecurityOptions>() ?? new SecurityOptions();
        var tokens = BearerTokens.Load(options.Auth, Environment.GetEnvironmentVariable);
        builder.Services.AddSingleton(tokens);
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, null);
        builder.Services.AddAuthorization(o =>
        {
            if (BearerTokenHandler.IsNeeded(tokens, options))
                o.FallbackPolicy = new AuthorizationPolicyBuilder(BearerTokenHandler.SchemeName).AddRequirements(new AuthenticatedServiceCallRequirement()).Build();
        });
        builder.Services.AddHostedService<ModelIntegrityCheck>();
        return options;
    }

    /// <summary>
    /// The mapping of unparsable request messages to INVALID_ARGUMENT, then authentication and
    /// authorization (after the request id is given, so that refusals carry it).
    /// </summary>
    internal static void UseDermxaiAccessControl(this WebApplication app)
    {
        app.UseMiddleware<MalformedMessageMiddleware>();
        app.UseAuthentication();
        app.UseAuthorization();
    }

    /// <summary>Plaintext for http://, TLS from Dermxai:Tls for https://; anything else is refused.</summary>
    internal static void UseScheme(this ListenOptions listen, string scheme, string endpoint, TlsOptions tls)
    {
        if (string.Equals(scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase)) listen.UseDermxaiTls(tls);
        else if (!string.Equals(scheme, Uri.UriSchemeHttp, StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"Endpoint {endpoint}: use http:// (plaintext) or https:// (TLS, see Dermxai:Tls).");
    }

    /// <summary>Client certificates need TLS: refuses settings that ask for them with plaintext endpoints only.</summary>
    internal static void CheckTlsConsistency(TlsOptions tls, IEnumerable<string> grpcUrls)
    {
        bool anyHttps = grpcUrls.Any(url => url.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
        if (tls.ClientCertificateMode != ClientCertificateRequirement.None && !anyHttps)
            throw new InvalidOperationException(
                "Dermxai:Tls:ClientCertificateMode is set, but no gRPC endpoint is https://; client certificates need TLS (e.g. --urls https://127.0.0.1:5001).");
    }
}
