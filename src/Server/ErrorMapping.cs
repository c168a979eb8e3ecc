using Dermxai.Engine;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using RpcStatus = Google.Rpc.Status;

namespace Dermxai.Server;

/// <summary>
/// Failures → google.rpc.Status (docs/contract.md#errors): the gRPC code, one human sentence, and the
/// details a program reads: ErrorInfo (domain "dermxai.v1", a stable reason) always, BadRequest with
/// the field for bad input, RetryInfo when the queue is full. Sent as grpc-status-details-bin over
/// gRPC, as the JSON body over HTTP, and as ExplainStreamResponse.error in streams.
/// </summary>
internal static class ErrorMapping
{
    /// <summary>The longest status message sent; engine sentences quote at most a short prefix of client text.</summary>
    internal const int MaxDetail = 512;

    /// <summary>How long a caller refused with QUEUE_FULL should wait before retrying.</summary>
    internal static readonly TimeSpan QueueFullRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>The detail messages a status may carry, for JSON formatting of their Any wrappers.</summary>
    internal static readonly Google.Protobuf.Reflection.TypeRegistry DetailTypes =
        Google.Protobuf.Reflection.TypeRegistry.FromMessages(ErrorInfo.Descriptor, BadRequest.Descriptor, RetryInfo.Descriptor);

    internal static RpcStatus ToStatus(Exception e, ServerCallContext context) => e switch
    {
        RpcException rpc when rpc.GetRpcStatus() is { } rich => rich,
        RpcException rpc => Create(rpc.StatusCode, ReasonOf(rpc.StatusCode), null, rpc.Status.Detail),
        _ when Security.MalformedMessageMiddleware.IsMalformedMessage(e) =>
            Create(StatusCode.InvalidArgument, ErrorReasons.MalformedMessage, null, Security.MalformedMessageMiddleware.Sentence),
        EngineException engine => Create(CodeOf(engine.Kind), engine.Reason, engine.Field, engine.Message),
        OperationCanceledException when context.Deadline <= DateTime.UtcNow =>
            Create(StatusCode.DeadlineExceeded, ErrorReasons.DeadlineExceeded, null, "The call's deadline passed before the work finished."),
        OperationCanceledException when context.CancellationToken.IsCancellationRequested =>
            Create(StatusCode.Cancelled, ErrorReasons.Cancelled, null, "The call was cancelled by the client."),
        _ => Create(StatusCode.Internal, ErrorReasons.Internal, null,
            $"Internal error; quote request id {RequestIds.Of(context)} when reporting it."),
    };

    private static StatusCode CodeOf(EngineErrorKind kind) => kind switch
    {
        EngineErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        EngineErrorKind.TooLarge or EngineErrorKind.QueueFull => StatusCode.ResourceExhausted,
        _ => StatusCode.Unavailable,
    };

    internal static string ReasonOf(StatusCode code) => code switch
    {
        StatusCode.Unauthenticated => ErrorReasons.Unauthenticated,
        StatusCode.Cancelled => ErrorReasons.Cancelled,
        StatusCode.DeadlineExceeded => ErrorReasons.DeadlineExceeded,
        _ => ErrorReasons.Internal,
    };

    /// <summary>A status with its details; the message is cut to <see cref="MaxDetail"/> characters.</summary>
    internal static RpcStatus Create(StatusCode code, string reason, string? field, string message)
    {
        string sentence = message.Length <= MaxDetail ? message : message[..(MaxDetail - 1)] + "…";
        var status = new RpcStatus { Code = (int)code, Message = sentence };
        status.Details.Add(Any.Pack(new ErrorInfo { Reason = reason, Domain = ErrorReasons.Domain }));
        if (field is not null)
            status.Details.Add(Any.Pack(new BadRequest
            {
                FieldViolations = { new BadRequest.Types.FieldViolation { Field = field, Description = sentence, Reason = reason } },
            }));
        if (reason == ErrorReasons.QueueFull)
            status.Details.Add(Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(QueueFullRetryDelay) }));
        return status;
    }

    /// <summary>
    /// The grpc-status-details-bin value of a refusal answered outside the interceptor (the bearer scheme's
    /// challenge and middlewares that write the status headers themselves).
    /// </summary>
    internal static string DetailsHeader(StatusCode code, string reason, string message) =>
        Convert.ToBase64String(Create(code, reason, null, message).ToByteArray());

    /// <summary>One line per failure: internal errors with the exception (for the operator), others with their reason and sentence.</summary>
    internal static void Log(ILogger logger, Exception e, RpcStatus status, string rpc, string requestId, TimeSpan elapsed)
    {
        if (status.Code == (int)StatusCode.Internal)
            logger.LogError(e, "{Rpc} {RequestId} failed with an internal error", rpc, requestId);
        else
            logger.LogInformation("{Rpc} {RequestId} {Code} {Reason}: {Detail} ({Ms:F1} ms)", rpc, requestId, (StatusCode)status.Code,
                status.GetDetail<ErrorInfo>()?.Reason, status.Message, elapsed.TotalMilliseconds);
    }
}
