using Dermxai.Engine;
using Microsoft.Extensions.Options;

namespace Dermxai.Server;

/// <summary>
/// Owns the engine: loads and warms the model when the host starts (health turns SERVING, see
/// <see cref="EngineHealth"/>), reports NOT_SERVING as soon as shutdown begins (ApplicationStopping,
/// before Kestrel stops accepting and drains in-flight calls), and disposes the engine only after
/// in-flight calls have finished.
/// </summary>
internal sealed class EngineHost(
    IOptions<ServerOptions> options, HealthPublication health, QueueSaturationCheck queue, ServerMetrics metrics,
    IHostEnvironment environment, IHostApplicationLifetime lifetime, ILogger<EngineHost> logger) : IHostedService, IAsyncDisposable
{
    private DermxaiEngine? _engine;
    private volatile string _unavailableReason = "The model is still loading; retry shortly.";
    private volatile bool _stopping;
    private volatile bool _warm;

    /// <summary>Whether calls can be served: a model is loaded and shutdown has not begun.</summary>
    internal bool IsServing => _engine is not null && !_stopping;
    internal bool IsWarm => _warm;
    internal string UnavailableReason => _unavailableReason;

    /// <summary>The loaded engine, or an UNAVAILABLE refusal naming why there is none.</summary>
    public DermxaiEngine Engine => _engine ?? throw new EngineException(EngineErrorKind.Unavailable, ErrorReasons.ModelUnavailable, null, _unavailableReason);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(ReportStopping);
        var settings = options.Value;
        string path = ModelPathResolver.Resolve(settings.Model, environment.ContentRootPath);
        if (!File.Exists(path))
        {
            string message = $"The model file {path} does not exist (set Dermxai:Model, DERMXAI__MODEL or --model PATH).";
            if (settings.RequireModel) throw new FileNotFoundException(message, path);
            logger.LogError("{Message} Serving UNAVAILABLE until restarted with a model.", message);
            _unavailableReason = $"No model is loaded: {path} does not exist.";
            await health.PublishAsync(cancellationToken);
            return;
        }
        var engineOptions = settings.ToEngineOptions(path, batch => { metrics.RecordBatch(batch); queue.Record(batch); });
        _engine = await Task.Run(() => DermxaiEngine.Load(engineOptions, logger), cancellationToken);
        metrics.SetModel(_engine.Model.ModelSha256, _engine.Device);
        if (settings.WarmUp) await EngineWarmUp.RunAsync(_engine, logger, cancellationToken);
        _warm = true;
        await health.PublishAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        ReportStopping();
        return Task.CompletedTask;
    }

    /// <summary>Publishes NOT_SERVING before returning, so that probes see it while calls drain.</summary>
    private void ReportStopping()
    {
        if (_stopping) return;
        _unavailableReason = "The server is shutting down.";
        _stopping = true;
        health.PublishAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    public async ValueTask DisposeAsync()
    {
        if (_engine is not null) await _engine.DisposeAsync();
    }
}

/// <summary>Finds the model file: absolute as given; relative to the working directory, else to the repo root.</summary>
internal static class ModelPathResolver
{
    internal static string Resolve(string configured, string contentRoot)
    {
        if (Path.IsPathRooted(configured)) return configured;
        string fromWorkingDirectory = Path.GetFullPath(configured);
        if (File.Exists(fromWorkingDirectory)) return fromWorkingDirectory;
        foreach (var start in new[] { contentRoot, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Dermxai.sln")))
                    return Path.GetFullPath(Path.Combine(dir.FullName, configured));
            }
        }
        return fromWorkingDirectory;
    }
}
