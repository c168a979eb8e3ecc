using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Dermxai.Server.Security;

/// <summary>
/// Pins the model: when Dermxai:ExpectedModelSha256 is set, hashes the model file before the engine
/// loads it (ONNX Runtime never parses a file that is not the expected one) and stops the start-up
/// with a sentence naming both digests when they differ. Registered before the engine's hosted
/// service, so it runs first.
/// </summary>
internal sealed class ModelIntegrityCheck(
    IOptions<ServerOptions> server, IOptions<SecurityOptions> security, IHostEnvironment environment, ILogger<ModelIntegrityCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        string? expected = security.Value.ExpectedModelSha256?.Trim();
        if (string.IsNullOrEmpty(expected)) return Task.CompletedTask;
        if (!IsSha256Hex(expected))
            throw Refuse($"Dermxai:ExpectedModelSha256 '{expected}' is not a sha256 digest (64 hexadecimal characters); refusing to start.");

        string path = ModelPathResolver.Resolve(server.Value.Model, environment.ContentRootPath);
        if (!File.Exists(path)) return Task.CompletedTask; // the engine host reports the missing file its own way
        string actual = FileSha256(path);
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            throw Refuse($"Model integrity check failed: {path} has sha256 {actual}, but Dermxai:ExpectedModelSha256 is {expected.ToLowerInvariant()}; refusing to start.");
        logger.LogInformation("Model {Path} matches the expected sha256 {Sha}", path, actual);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private InvalidOperationException Refuse(string message)
    {
        logger.LogCritical("{Message}", message);
        return new InvalidOperationException(message);
    }

    internal static bool IsSha256Hex(string value) =>
        value.Length == 64 && value.All(c => char.IsAsciiHexDigit(c));

    private static string FileSha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
