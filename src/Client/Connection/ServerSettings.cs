using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Client.Connection;

/// <summary>How to reach the server: shared by every command that talks to one.</summary>
internal class ServerSettings : CommandSettings
{
    public const string DefaultServer = "http://127.0.0.1:5000";
    public const string ServerVariable = "DERMXAI_SERVER";
    public const string TokenVariable = "DERMXAI_TOKEN";

    [CommandOption("--server <URL>")]
    [Description("Server address (http:// plaintext HTTP/2, https:// TLS; dns:///host:port: every address of the name, round robin). Default: $DERMXAI_SERVER or " + DefaultServer + ".")]
    public string? Server { get; set; }

    [CommandOption("--token <TOKEN>")]
    [Description("Bearer token, sent as 'authorization: Bearer TOKEN'. Default: $DERMXAI_TOKEN.")]
    public string? Token { get; set; }

    [CommandOption("--token-file <FILE>")]
    [Description("Read the bearer token from this file (surrounding whitespace is ignored).")]
    public string? TokenFile { get; set; }

    [CommandOption("--ca-cert <FILE>")]
    [Description("PEM file of the CA that signed the server's certificate (TLS).")]
    public string? CaCert { get; set; }

    [CommandOption("--client-cert <FILE>")]
    [Description("PEM client certificate for mutual TLS (with --client-key).")]
    public string? ClientCert { get; set; }

    [CommandOption("--client-key <FILE>")]
    [Description("PEM private key of --client-cert.")]
    public string? ClientKey { get; set; }

    [CommandOption("--tls-skip-verify")]
    [Description("Accept any server certificate (testing only).")]
    public bool TlsSkipVerify { get; set; }

    [CommandOption("--deadline <SECONDS>")]
    [Description("Deadline of each call, in seconds (0 = none). Default: 60.")]
    public double Deadline { get; set; } = 60;

    [CommandOption("--retries <N>")]
    [Description("Retries of a call that ended UNAVAILABLE (server down, restarting or without a model), with exponential backoff; other statuses are never retried. Default: 4 (bench: 0).")]
    public int Retries { get; set; } = 4;

    public string ResolveServer() =>
        Server ?? NonEmpty(Environment.GetEnvironmentVariable(ServerVariable)) ?? DefaultServer;

    public string? ResolveToken()
    {
        if (TokenFile is not null) return File.ReadAllText(TokenFile).Trim();
        return Token ?? NonEmpty(Environment.GetEnvironmentVariable(TokenVariable));
    }

    public override ValidationResult Validate()
    {
        if (!ChannelAddress.IsValid(ResolveServer()))
            return ValidationResult.Error($"--server must be an http:// or https:// URL or dns:///host:port, not '{ResolveServer()}'.");
        if ((ClientCert is null) != (ClientKey is null))
            return ValidationResult.Error("--client-cert and --client-key go together.");
        if (Token is not null && TokenFile is not null)
            return ValidationResult.Error("Give --token or --token-file, not both.");
        if (Deadline < 0) return ValidationResult.Error("--deadline must be >= 0.");
        if (Retries is < 0 or > 10) return ValidationResult.Error("--retries must be between 0 and 10.");
        foreach (var file in new[] { TokenFile, CaCert, ClientCert, ClientKey })
            if (file is not null && !File.Exists(file)) return ValidationResult.Error($"File not found: {file}");
        return ValidationResult.Success();
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
