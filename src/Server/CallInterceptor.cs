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
        string rpc = RpcLabels.Of(context.Method);
        string requestId = RequestIds.Of(context);
        var clock = Stopwatch.StartNew();
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = requestId, ["Rpc"] = rpc });
        await context.WriteResponseHeadersAsync(new Metadata()); // sends x-request-id (set by RequestIdMiddleware) at once
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
            ErrorMapping.Log(logger, e, status, rpc, requestId, clock.Elapsed);
            throw new RpcException(status);
        }
    }
}

/// <summary>Failures → gRPC statuses with one human sentence (docs/contract.md#errors).</summary>
internal static class ErrorMapping
{
    /// <summary>The longest status message sent; engine sentences quote at most a short prefix of client text.</summary>
    internal const int MaxDetail = 512;

    internal static Status ToStatus(Exception e, ServerCallContext context) => Bounded(e switch
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
    });

    private static Status Bounded(Status status) =>
        status.Detail.Length <= MaxDetail ? status : new Status(status.StatusCode, status.Detail[..(MaxDetail - 1)] + "…");

    /// <summary>One line per failure: internal errors with the exception (for the operator), others with their sentence.</summary>
    internal static void Log(ILogger logger, Exception e, Status status, string rpc, string requestId, TimeSpan elapsed)
    {
        if (status.StatusCode == StatusCode.Internal)
            logger.LogError(e, "{Rpc} {RequestId} failed with an internal error", rpc, requestId);
        else
            logger.LogInformation("{Rpc} {RequestId} {Code}: {Detail} ({Ms:F1} ms)", rpc, requestId, status.StatusCode, status.Detail,
                elapsed.TotalMilliseconds);
    }
}
