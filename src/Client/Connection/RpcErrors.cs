using Grpc.Core;

namespace Dermxai.Client.Connection;

/// <summary>One-line descriptions of failed calls, in the proto's status vocabulary.</summary>
internal static class RpcErrors
{
    /// <summary>e.g. "INVALID_ARGUMENT: The data is not a JPEG or PNG image; send JPEG or PNG. [UNSUPPORTED_IMAGE_FORMAT]"</summary>
    public static string Describe(Exception error) => error switch
    {
        RpcException rpc => $"{ProtoName(rpc.StatusCode)}: {rpc.Status.Detail}{Cause(rpc)}{(Reason(rpc) is { } reason ? $" [{reason}]" : "")}",
        IOException or UnauthorizedAccessException => $"cannot read: {error.Message}",
        _ => error.Message,
    };

    /// <summary>The server's machine-readable reason (google.rpc.ErrorInfo in grpc-status-details-bin), if it sent one.</summary>
    public static string? Reason(RpcException rpc)
    {
        if (rpc.Trailers.GetValueBytes("grpc-status-details-bin") is not { } bytes) return null;
        try
        {
            var status = Google.Rpc.Status.Parser.ParseFrom(bytes);
            return status.Details.FirstOrDefault(d => d.Is(Google.Rpc.ErrorInfo.Descriptor))?.Unpack<Google.Rpc.ErrorInfo>().Reason;
        }
        catch (Google.Protobuf.InvalidProtocolBufferException) { return null; }
    }

    /// <summary>The client-side cause of a status the client made up itself (e.g. connection refused).</summary>
    private static string Cause(RpcException rpc)
    {
        if (rpc.Status.DebugException is not { } cause) return "";
        var message = cause.InnerException?.Message ?? cause.Message;
        return rpc.Status.Detail.Contains(message, StringComparison.Ordinal) ? "" : $" ({message})";
    }

    /// <summary>The status name as gRPC's documentation spells it (DEADLINE_EXCEEDED, not DeadlineExceeded).</summary>
    public static string ProtoName(StatusCode code) => code switch
    {
        StatusCode.OK => "OK",
        StatusCode.Cancelled => "CANCELLED",
        StatusCode.Unknown => "UNKNOWN",
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.PermissionDenied => "PERMISSION_DENIED",
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.Aborted => "ABORTED",
        StatusCode.OutOfRange => "OUT_OF_RANGE",
        StatusCode.Unimplemented => "UNIMPLEMENTED",
        StatusCode.Internal => "INTERNAL",
        StatusCode.Unavailable => "UNAVAILABLE",
        StatusCode.DataLoss => "DATA_LOSS",
        StatusCode.Unauthenticated => "UNAUTHENTICATED",
        _ => code.ToString(),
    };
}
