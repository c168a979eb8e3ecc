using System.Diagnostics;
using Dermxai.Engine;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Dermxai.Server;

/// <summary>
/// The one place every RPC passes: request id (from x-request-id metadata or generated; echoed in the
/// response headers), a log scope, metrics by RPC and status, and the mapping of failures to statuses.
/// </summary>
internal sealed class CallInterceptor(ServerMetrics metrics, ILogger<CallInterceptor> logger) : Interceptor
{
    private const string RequestIdKey = "x-request-id";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        Observe(context, () => continuation(request, context));

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        Observe(context, () => continuation(requestStream, context));

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        await Observe(context, async () => { await continuation(request, responseStream, context); return true; });

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        await Observe(context, async () => { await continuation(requestStream, responseStream, context); return true; });

    private async Task<T> Observe<T>(ServerCallContext context, Func<Task<T>> call)
    {
        string rpc = context.Method[(context.Method.LastIndexOf('/') + 1)..];
        string requestId = RequestIds.Assign(context);
        var clock = Stopwatch.StartNew();
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = requestId, ["Rpc"] = rpc });
        await context.WriteResponseHeadersAsync(new Metadata { { RequestIdKey, requestId } });
        try
        {
            var result = await call();
            metrics.RecordRequest(rpc, StatusCode.OK, clock.Elapsed);
            logger.LogInformation("{Rpc} {RequestId} OK in {Ms:F1} ms", rpc, requestId, clock.Elapsed.TotalMilliseconds);
            return result;
        }
        catch (Exception e)
        {
            var status = ErrorMapping.ToStatus(e, context);
            metrics.RecordRequest(rpc, status.StatusCode, clock.Elapsed);
            if (status.StatusCode == StatusCode.Internal)
                logger.LogError(e, "{Rpc} {RequestId} failed with an internal error", rpc, requestId);
            else
                logger.LogInformation("{Rpc} {RequestId} {Code}: {Detail} ({Ms:F1} ms)", rpc, requestId, status.StatusCode, status.Detail,
                    clock.Elapsed.TotalMilliseconds);
            throw new RpcException(status);
        }
    }
}

/// <summary>Failures → gRPC statuses with one human sentence (docs/contract.md#errors).</summary>
internal static class ErrorMapping
{
    internal static Status ToStatus(Exception e, ServerCallContext context) => e switch
    {
        RpcException rpc => rpc.Status,
        _ when Security.MalformedMessageMiddleware.IsMalformedMessage(e) => new Status(StatusCode.InvalidArgument, Security.MalformedMessageMiddleware.Sentence),
        EngineException engine => new Status(engine.Kind switch
        {
            EngineErrorKind.InvalidArgument => StatusCode.InvalidArgument,
            EngineErrorKind.TooLarge or EngineErrorKind.QueueFull => StatusCode.ResourceExhausted,
            _ => StatusCode.Unavailable,
        }, engine.Message),
        OperationCanceledException when context.Deadline <= DateTime.UtcNow =>
            new Status(StatusCode.DeadlineExceeded, "The call's deadline passed before the work finished."),
        OperationCanceledException when context.CancellationToken.IsCancellationRequested =>
            new Status(StatusCode.Cancelled, "The call was cancelled by the client."),
        _ => new Status(StatusCode.Internal, $"Internal error; quote request id {RequestIds.Of(context)} when reporting it."),
    };
}

/// <summary>The request id of a call, kept in its UserState.</summary>
internal static class RequestIds
{
    private const string Key = "dermxai.request_id";

    internal static string Assign(ServerCallContext context)
    {
        string? given = context.RequestHeaders.GetValue("x-request-id");
        string id = IsUsable(given) ? given! : Guid.NewGuid().ToString("N");
        context.UserState[Key] = id;
        return id;
    }

    internal static string Of(ServerCallContext context) =>
        context.UserState.TryGetValue(Key, out var id) ? (string)id : "";

    /// <summary>Caller ids are echoed and logged: accept short printable ASCII only.</summary>
    internal static bool IsUsable(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= 128 && id.All(c => c is > ' ' and < (char)127);
}
