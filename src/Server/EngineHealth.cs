using System.Collections.Concurrent;
using Dermxai.Engine;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Dermxai.Server;

/// <summary>
/// grpc.health.v1 over ASP.NET Core health checks (Grpc.AspNetCore.HealthChecks): the server as a
/// whole ("") and <see cref="ServiceName"/> are SERVING when no check is Unhealthy: the model is loaded
/// (and the server is not shutting down), warmed, and the queue is reported (Degraded, still SERVING)
/// when saturated. Check calls run the checks; Watch streams follow the published status.
/// </summary>
internal static class EngineHealth
{
    internal const string ServiceName = "dermxai.v1.DermxaiService";

    internal static void AddEngineHealth(this IServiceCollection services)
    {
        services.AddSingleton<QueueSaturationCheck>();
        services.AddSingleton<HealthPublication>();
        services.AddGrpcHealthChecks(o => o.Services.Map(ServiceName, _ => true))
            .AddCheck<ModelLoadedCheck>("model-loaded")
            .AddCheck<WarmUpCheck>("warmed-up")
            .AddCheck<QueueSaturationCheck>("queue-not-saturated");
    }
}

/// <summary>Healthy while the engine is loaded and the server is not shutting down; otherwise why not.</summary>
internal sealed class ModelLoadedCheck(EngineHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(host.IsServing ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy(host.UnavailableReason));
}

/// <summary>Healthy once the warm-up explanation has run (<see cref="EngineWarmUp"/>), or at once when it is off.</summary>
internal sealed class WarmUpCheck(EngineHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(host.IsWarm ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("The warm-up explanation has not run yet."));
}

/// <summary>
/// Degraded while a graph's queue was full after its last batch. Not Unhealthy: calls beyond the queue
/// already get RESOURCE_EXHAUSTED with a retry delay, and turning readiness off under a burst would take
/// every equally loaded replica out of service at once.
/// </summary>
internal sealed class QueueSaturationCheck(IOptions<ServerOptions> options) : IHealthCheck
{
    private readonly ConcurrentDictionary<string, int> _depthByGraph = new(StringComparer.Ordinal);

    internal void Record(BatchReport batch) => _depthByGraph[batch.Graph] = batch.QueueDepth;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var full = _depthByGraph.Where(g => g.Value >= options.Value.MaxQueueSize).Select(g => g.Key).ToArray();
        return Task.FromResult(full.Length == 0 ? HealthCheckResult.Healthy()
            : HealthCheckResult.Degraded($"The {string.Join(", ", full)} queue is full ({options.Value.MaxQueueSize} rows)."));
    }
}

/// <summary>
/// Publishes a fresh report (to the gRPC health service's status, which Watch streams follow) the moment
/// the engine's state changes, instead of at the next periodic publication.
/// </summary>
internal sealed class HealthPublication(HealthCheckService checks, IEnumerable<IHealthCheckPublisher> publishers)
{
    internal async Task PublishAsync(CancellationToken cancellation)
    {
        var report = await checks.CheckHealthAsync(cancellation);
        foreach (var publisher in publishers) await publisher.PublishAsync(report, cancellation);
    }
}
