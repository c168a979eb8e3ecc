using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dermxai.Engine;
using Grpc.Core;
using Google.Protobuf;

namespace Dermxai.Server;

/// <summary>
/// Keeps every JSON error body a bounded google.rpc.Status with an ErrorInfo reason. The service's own
/// refusals already are (the interceptor builds them); but JSON transcoding answers a request it cannot
/// read as the method's message itself, before any interceptor, with its converter's exception text —
/// which quotes the offending value whole (a 1 MB colormap string gave a 1 MB body) — and no details.
/// Such bodies are replaced by INVALID_ARGUMENT, reason MALFORMED_MESSAGE, quoting a short prefix at most.
/// </summary>
internal sealed class RestErrorBodyMiddleware(RequestDelegate next)
{
    /// <summary>The largest error body passed on unread; the service's own are far smaller.</summary>
    internal const int MaxErrorBody = 16 * 1024;
    /// <summary>How much of the framework's sentence (which may quote the client's value) is kept.</summary>
    internal const int MaxQuoted = 96;
    internal const string Sentence = "The request body is not a valid dermxai.v1 JSON message";

    private static readonly JsonFormatter StatusJson = new(JsonFormatter.Settings.Default.WithTypeRegistry(ErrorMapping.DetailTypes));

    public async Task InvokeAsync(HttpContext context)
    {
        if (!RestApi.IsRestCall(context.Request))
        {
            await next(context);
            return;
        }
        var original = context.Response.Body;
        await using var body = new ErrorCapturingStream(context.Response, original);
        context.Response.Body = body;
        context.Response.OnStarting(() => { body.Decide(); return Task.CompletedTask; });
        try { await next(context); }
        finally { context.Response.Body = original; }
        if (body.Captured is { } captured)
        {
            byte[] answer = Bounded(captured.ToArray(), body.Overflowed);
            if (!context.Response.HasStarted) context.Response.ContentLength = answer.Length;
            await original.WriteAsync(answer, context.RequestAborted);
        }
    }

    /// <summary>
    /// The error body as written when it is bounded and either has details or is not a refused request
    /// message (other framework refusals keep their code and HTTP status); else its replacement.
    /// </summary>
    internal static byte[] Bounded(byte[] written, bool overflowed)
    {
        string text = Encoding.UTF8.GetString(written);
        var code = CodeOf(text);
        if (!overflowed && (HasDetails(written) || code != StatusCode.InvalidArgument)) return written;
        var status = code == StatusCode.InvalidArgument
            ? ErrorMapping.Create(code, ErrorReasons.MalformedMessage, null, Quote(text) is { Length: > 0 } quoted ? $"{Sentence}: {quoted}" : Sentence + ".")
            : ErrorMapping.Create(code, ErrorMapping.ReasonOf(code), null, Quote(text));
        return Encoding.UTF8.GetBytes(StatusJson.Format(status));
    }

    private static bool HasDetails(byte[] json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.TryGetProperty("details", out var details)
                && details.ValueKind == JsonValueKind.Array && details.GetArrayLength() > 0;
        }
        catch (JsonException) { return false; }
    }

    /// <summary>The body's "code" (read from its start, which the held-back prefix always has); INVALID_ARGUMENT when absent.</summary>
    private static StatusCode CodeOf(string json)
    {
        var match = Regex.Match(json, "^\\s*\\{\\s*\"code\"\\s*:\\s*(\\d{1,2})\\b");
        return match.Success ? (StatusCode)int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : StatusCode.InvalidArgument;
    }

    /// <summary>The start of the framework's "message" string (raw JSON text, possibly cut off), at most <see cref="MaxQuoted"/> characters.</summary>
    private static string Quote(string json)
    {
        const string Key = "\"message\":";
        int start = json.IndexOf(Key, StringComparison.Ordinal);
        if (start < 0) return "";
        string rest = json[(start + Key.Length)..].TrimStart().TrimStart('"');
        var quoted = new StringBuilder();
        for (int i = 0; i < rest.Length && quoted.Length < MaxQuoted; i++)
        {
            if (rest[i] == '"') return quoted.ToString();
            if (rest[i] == '\\' && i + 1 < rest.Length) i++;
            quoted.Append(rest[i]);
        }
        return quoted.Length < MaxQuoted ? quoted.ToString() : quoted.Append('…').ToString();
    }
}

/// <summary>
/// Passes a successful response straight through; holds back an error response (status 400 or more),
/// keeping its first <see cref="RestErrorBodyMiddleware.MaxErrorBody"/> bytes, for the middleware to check.
/// </summary>
internal sealed class ErrorCapturingStream(HttpResponse response, Stream inner) : Stream
{
    private bool _decided;

    public MemoryStream? Captured { get; private set; }
    public bool Overflowed { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Flush() { if (Captured is null) inner.Flush(); }
    public override Task FlushAsync(CancellationToken cancellationToken) => Captured is null ? inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Capture(buffer)) return;
        inner.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        Capture(buffer.Span) ? ValueTask.CompletedTask : inner.WriteAsync(buffer, cancellationToken);

    /// <summary>
    /// Decides, once, whether the response is an error to hold back: when its headers are about to be sent
    /// (writes through the response's PipeWriter start it first) or at the first write, whichever comes first.
    /// </summary>
    internal void Decide()
    {
        if (_decided) return;
        _decided = true;
        if (response.StatusCode < StatusCodes.Status400BadRequest) return;
        Captured = new MemoryStream();
        if (!response.HasStarted) response.ContentLength = null;
    }

    /// <summary>Whether this write was held back (the response is an error).</summary>
    private bool Capture(ReadOnlySpan<byte> buffer)
    {
        Decide();
        if (Captured is null) return false;
        int room = RestErrorBodyMiddleware.MaxErrorBody - (int)Captured.Length;
        if (buffer.Length > room) Overflowed = true;
        Captured.Write(buffer[..Math.Min(room, buffer.Length)]);
        return true;
    }
}
