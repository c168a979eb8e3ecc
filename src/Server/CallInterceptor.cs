using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Google.Rpc;

namespace Dermxai.Server;

/// <summary>
/// The one place every RPC passes: request id (<see cref="RequestIds"/>: from the caller's metadata or generated; echoed in the
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
        using var scope = logger.BeginScope(RequestIds.LogScope(requestId, rpc));
        // gRPC: send the request id header (set by RequestIdMiddleware) at once. JSON: the HTTP status must wait for the outcome.
        if (!RestApi.IsRestCall(context.GetHttpContext().Request)) await context.WriteResponseHeadersAsync(new Metadata());
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
            metrics.RecordRequest(rpc, (StatusCode)status.Code, clock.Elapsed);
            ErrorMapping.Log(logger, e, status, rpc, requestId, clock.Elapsed);
            throw status.ToRpcException();
        }
    }
}
