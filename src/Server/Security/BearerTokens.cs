using System.Security.Cryptography;
using System.Text;

namespace Dermxai.Server.Security;

/// <summary>
/// The accepted bearer tokens, read once at start. Tokens are kept only as SHA-256 digests and
/// compared digest to digest with <see cref="CryptographicOperations.FixedTimeEquals"/>, against every
/// accepted token, so neither the time taken nor an early exit tells a caller how close a guess was
/// (comparing the raw strings would also leak their length).
/// </summary>
internal sealed class BearerTokens
{
    private readonly byte[][] _digests;

    private BearerTokens(byte[][] digests) => _digests = digests;

    internal static BearerTokens None { get; } = new([]);

    internal bool Required => _digests.Length > 0;

    /// <summary>Reads the configured sources; a configured source that is missing or empty stops the server (fail closed).</summary>
    internal static BearerTokens Load(AuthOptions options, Func<string, string?> environment)
    {
        var tokens = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.TokenFile)) tokens.AddRange(ReadTokenFile(options.TokenFile));
        if (!string.IsNullOrWhiteSpace(options.TokenEnvironmentVariable))
        {
            string? value = environment(options.TokenEnvironmentVariable)?.Trim();
            if (string.IsNullOrEmpty(value))
                throw new InvalidOperationException(
                    $"Dermxai:Auth:TokenEnvironmentVariable names {options.TokenEnvironmentVariable}, but that variable is not set or empty; refusing to start without the token.");
            tokens.Add(value);
        }
        return new BearerTokens(tokens.Select(Digest).ToArray());
    }

    private static IEnumerable<string> ReadTokenFile(string path)
    {
        if (!File.Exists(path))
            throw new InvalidOperationException($"Dermxai:Auth:TokenFile {path} does not exist; refusing to start without the token.");
        var tokens = File.ReadAllLines(path).Select(line => line.Trim()).Where(line => line.Length > 0 && !line.StartsWith('#')).ToArray();
        if (tokens.Length == 0)
            throw new InvalidOperationException($"Dermxai:Auth:TokenFile {path} holds no token; refusing to start without one.");
        return tokens;
    }

    /// <summary>Whether the value of an "authorization" header carries an accepted bearer token.</summary>
    internal bool Accepts(string? authorizationHeader)
    {
        if (!TryGetBearer(authorizationHeader, out var presented)) return false;
        var digest = Digest(presented);
        bool accepted = false;
        foreach (var known in _digests) accepted |= CryptographicOperations.FixedTimeEquals(digest, known);
        return accepted;
    }

    private static bool TryGetBearer(string? header, out string token)
    {
        const string scheme = "Bearer ";
        token = "";
        if (header is null || header.Length <= scheme.Length || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        token = header[scheme.Length..].Trim();
        return token.Length > 0;
    }

    private static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
