namespace Dermxai.Engine;

/// <summary>Why a request was refused; the server maps each kind to one gRPC status.</summary>
public enum EngineErrorKind
{
    /// <summary>Corrupt, unsupported or non-finite input, unknown method, bad target or option.</summary>
    InvalidArgument,
    /// <summary>Image or message too large.</summary>
    TooLarge,
    /// <summary>The batching queue is full; retry later.</summary>
    QueueFull,
    /// <summary>No model is loaded, or the engine is shutting down.</summary>
    Unavailable,
}

/// <summary>
/// A refusal: one human sentence as its message (safe to show to the caller), a stable machine-readable
/// <see cref="Reason"/> (<see cref="ErrorReasons"/>) and, for bad input, the request field at fault.
/// </summary>
public sealed class EngineException(EngineErrorKind kind, string reason, string? field, string message) : Exception(message)
{
    public EngineErrorKind Kind { get; } = kind;
    /// <summary>One of <see cref="ErrorReasons"/>.</summary>
    public string Reason { get; } = reason;
    /// <summary>The request field at fault in the proto's dotted path (e.g. "outputs.overlay_alpha"), if any.</summary>
    public string? Field { get; } = field;

    public static EngineException Invalid(string reason, string field, string message) =>
        new(EngineErrorKind.InvalidArgument, reason, field, message);

    internal static EngineException TooLarge(string reason, string field, string message) =>
        new(EngineErrorKind.TooLarge, reason, field, message);
}
