using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Dermxai.Hardening.Tests.Support;

/// <summary>One log line as any sink would receive it: the formatted text, every scope value and the exception.</summary>
internal sealed record LogLine(long Sequence, string Category, LogLevel Level, string Message, IReadOnlyList<string> Scopes, string? Exception)
{
    /// <summary>Everything a sink could write for this line.</summary>
    internal string FullText => string.Join(" | ", [Category, Message, .. Scopes, Exception ?? ""]);
}

/// <summary>
/// An <see cref="ILoggerProvider"/> that keeps every line, with its scopes, for assertions. Add it to a
/// running app's <see cref="ILoggerFactory"/>; the factory's filter rules still apply.
/// </summary>
internal sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<LogLine> _lines = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();
    private long _sequence;

    internal IReadOnlyList<LogLine> Lines => _lines.ToArray();

    /// <summary>The sequence number the next line will get (to slice the lines of one call).</summary>
    internal long Mark => Interlocked.Read(ref _sequence);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose() { }

    private void Add(string category, LogLevel level, string message, Exception? exception)
    {
        var scopes = new List<string>();
        _scopes.ForEachScope((scope, list) => list.Add(ScopeText(scope)), scopes);
        _lines.Enqueue(new LogLine(Interlocked.Increment(ref _sequence) - 1, category, level, message, scopes, exception?.ToString()));
    }

    private static string ScopeText(object? scope) => scope switch
    {
        IEnumerable<KeyValuePair<string, object?>> pairs => string.Join(", ", pairs.Select(p => $"{p.Key}={p.Value}")),
        _ => scope?.ToString() ?? "",
    };

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(category, logLevel, formatter(state, exception), exception);
    }
}
