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

/// <summary>A refusal with one human sentence as its message (safe to show to the caller).</summary>
public sealed class EngineException(EngineErrorKind kind, string message) : Exception(message)
{
    public EngineErrorKind Kind { get; } = kind;

    internal static EngineException Invalid(string message) => new(EngineErrorKind.InvalidArgument, message);
    internal static EngineException TooLarge(string message) => new(EngineErrorKind.TooLarge, message);
}
