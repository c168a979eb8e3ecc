using System.Diagnostics;
using System.Threading.Channels;
using Dermxai.Engine;
using Grpc.Core;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Server;

/// <summary>The gRPC service: validation and mapping only; the interceptor handles ids, errors and metrics.</summary>
internal sealed class DermxaiService(EngineHost host, ServerMetrics metrics, ILogger<DermxaiService> logger)
    : Proto.DermxaiService.DermxaiServiceBase
{
    public override async Task<Proto.ClassifyResponse> Classify(Proto.ClassifyRequest request, ServerCallContext context)
    {
        var engine = host.Engine;
        var result = await engine.ClassifyAsync(ProtoMapping.ToImageSource(request.Image), request.HasTopK ? request.TopK : null, context.CancellationToken);
        RecordStages(result.Timings, ["classify"], []);
        return ProtoMapping.ToResponse(result, RequestIds.Of(context), engine.Model.ModelSha256);
    }

    public override Task<Proto.ExplainResponse> Explain(Proto.ExplainRequest request, ServerCallContext context) =>
        ExplainOneAsync(request, context);

    /// <summary>Requests run concurrently (so they batch) while responses keep request order.</summary>
    public override async Task ExplainStream(IAsyncStreamReader<Proto.ExplainStreamRequest> requestStream,
        IServerStreamWriter<Proto.ExplainStreamResponse> responseStream, ServerCallContext context)
    {
        var engine = host.Engine;
        var pending = Channel.CreateBounded<Task<Proto.ExplainStreamResponse>>(Math.Max(1, engine.Options.MaxBatchSize));
        var reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
                    await pending.Writer.WriteAsync(ExplainOrErrorAsync(request.Request ?? new Proto.ExplainRequest(), context), context.CancellationToken);
                pending.Writer.TryComplete();
            }
            catch (Exception e) { pending.Writer.TryComplete(e); }
        });
        await foreach (var response in pending.Reader.ReadAllAsync(context.CancellationToken))
            await responseStream.WriteAsync(await response);
        await reading;
    }

    /// <summary>
    /// One request of a stream. Whatever fails answers this request only, with its status (an internal
    /// error says no more than the request id; the exception goes to the log): the stream goes on, as
    /// the contract promises.
    /// </summary>
    private async Task<Proto.ExplainStreamResponse> ExplainOrErrorAsync(Proto.ExplainRequest request, ServerCallContext context)
    {
        var clock = Stopwatch.StartNew();
        string tag = request.ClientTag.Length <= RequestLimits.MaxClientTag ? request.ClientTag : "";
        try { return new Proto.ExplainStreamResponse { ClientTag = tag, Result = await ExplainOneAsync(request, context) }; }
        catch (Exception e)
        {
            var status = ErrorMapping.ToStatus(e, context);
            ErrorMapping.Log(logger, e, status, nameof(ExplainStream), RequestIds.Of(context), clock.Elapsed);
            return new Proto.ExplainStreamResponse { ClientTag = tag, Error = status };
        }
    }

    private async Task<Proto.ExplainResponse> ExplainOneAsync(Proto.ExplainRequest request, ServerCallContext context)
    {
        var engine = host.Engine;
        engine.CheckListSizes(request.Methods.Count, request.Targets.Count);
        var options = ProtoMapping.ToExplainOptions(request);
        var result = await engine.ExplainAsync(ProtoMapping.ToImageSource(request.Image), options, context.CancellationToken);
        RecordStages(result.Timings, result.Explanations.Select(e => e.Method).Distinct().ToArray(), result.Explanations);
        logger.LogInformation(
            "Explain {RequestId} model {ModelSha} methods {Methods} targets {Targets} decode {DecodeMs:F1} queue {QueueMs:F1} inference {InferenceMs:F1} attribution {AttributionMs:F1} render {RenderMs:F1} total {TotalMs:F1} ms",
            RequestIds.Of(context), engine.Model.ModelSha256, string.Join(",", result.Explanations.Select(e => e.Method).Distinct()),
            string.Join(",", result.Explanations.Select(e => e.Target.Index).Distinct()), result.Timings.DecodeMs, result.Timings.QueueMs,
            result.Timings.InferenceMs, result.Timings.AttributionMs, result.Timings.RenderMs, result.Timings.TotalMs);
        return ProtoMapping.ToResponse(result, request, RequestIds.Of(context), engine.Model.ModelSha256);
    }

    public override Task<Proto.GetModelInfoResponse> GetModelInfo(Proto.GetModelInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new Proto.GetModelInfoResponse { Model = ProtoMapping.ToModelInfo(host.Engine) });

    private void RecordStages(StageTimings timings, IReadOnlyList<string> methods, IReadOnlyList<Explanation> explanations)
    {
        foreach (var method in methods)
        {
            metrics.RecordStage("decode", method, timings.DecodeMs);
            metrics.RecordStage("queue", method, timings.QueueMs);
            metrics.RecordStage("inference", method, timings.InferenceMs);
        }
        foreach (var e in explanations)
        {
            metrics.RecordStage("attribution", e.Method, e.AttributionMs);
            metrics.RecordStage("render", e.Method, e.RenderMs);
        }
    }
}
