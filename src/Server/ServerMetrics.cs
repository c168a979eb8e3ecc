using System.Collections.Frozen;
using Dermxai.Engine;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Prometheus;

namespace Dermxai.Server;

/// <summary>The Prometheus series the server exports on /metrics.</summary>
internal sealed class ServerMetrics
{
    private static readonly double[] SecondsBuckets = Histogram.ExponentialBuckets(0.001, 2, 16);

    private readonly Counter _requests = Metrics.CreateCounter(
        "dermxai_requests_total", "RPCs finished, by RPC and gRPC status code.", "rpc", "code");
    private readonly Counter _errors = Metrics.CreateCounter(
        "dermxai_request_errors_total", "RPCs that ended with a non-OK status, by RPC and status code.", "rpc", "code");
    private readonly Histogram _duration = Metrics.CreateHistogram(
        "dermxai_request_duration_seconds", "Wall time of RPCs, by RPC.", new HistogramConfiguration { LabelNames = ["rpc"], Buckets = SecondsBuckets });
    private readonly Histogram _stage = Metrics.CreateHistogram(
        "dermxai_stage_seconds", "Time per stage (decode, queue, inference, attribution, render), by method ('classify' for Classify).",
        new HistogramConfiguration { LabelNames = ["stage", "method"], Buckets = SecondsBuckets });
    private readonly Histogram _batchRows = Metrics.CreateHistogram(
        "dermxai_batch_rows", "Rows per ONNX Runtime batch, by graph (full, gradient or forward).",
        new HistogramConfiguration { LabelNames = ["graph"], Buckets = [1, 2, 4, 8, 16, 32, 64] });
    private readonly Gauge _queueDepth = Metrics.CreateGauge(
        "dermxai_queue_depth", "Rows waiting for a batch after the last batch ran, by graph.", "graph");
    private readonly Gauge _modelInfo = Metrics.CreateGauge(
        "dermxai_model_info", "1 for the loaded model, labelled with its sha256 and device.", "sha256", "device");

    /// <summary>Counts a finished call; <paramref name="rpc"/> is a label of <see cref="RpcLabels"/>.</summary>
    internal void RecordRequest(string rpc, Grpc.Core.StatusCode code, TimeSpan elapsed)
    {
        string codeName = code.ToString();
        _requests.WithLabels(rpc, codeName).Inc();
        if (code != Grpc.Core.StatusCode.OK) _errors.WithLabels(rpc, codeName).Inc();
        _duration.WithLabels(rpc).Observe(elapsed.TotalSeconds);
    }

    internal void RecordStage(string stage, string method, double milliseconds) =>
        _stage.WithLabels(stage, method).Observe(milliseconds / 1000.0);

    internal void RecordBatch(BatchReport batch)
    {
        _batchRows.WithLabels(batch.Graph).Observe(batch.Rows);
        _queueDepth.WithLabels(batch.Graph).Set(batch.QueueDepth);
    }

    internal void SetModel(string sha256, string device) => _modelInfo.WithLabels(sha256, device).Set(1);
}

/// <summary>
/// The "rpc" label of a request path: the method name of an RPC this server serves (Dermxai, health,
/// reflection), <see cref="Unknown"/> for any other path, so callers cannot create label values (and
/// Prometheus series) at will.
/// </summary>
internal static class RpcLabels
{
    internal const string Unknown = "unknown";

    private static readonly FrozenDictionary<string, string> ByPath = new ServiceDescriptor[]
        {
            Protocol.V1.DermxaiService.Descriptor, Grpc.Health.V1.Health.Descriptor,
            Grpc.Reflection.V1.ServerReflection.Descriptor, Grpc.Reflection.V1Alpha.ServerReflection.Descriptor,
        }
        .SelectMany(service => service.Methods)
        .ToFrozenDictionary(method => $"/{method.Service.FullName}/{method.Name}", method => method.Name, StringComparer.Ordinal);

    /// <summary>The label of a gRPC path ("/dermxai.v1.DermxaiService/Explain" → "Explain").</summary>
    internal static string Of(string? path) => path is not null && ByPath.TryGetValue(path, out var name) ? name : Unknown;
}
