using Dermxai.Engine;

namespace Dermxai.Server;

/// <summary>
/// One explanation of a plain grey photo before the server reports SERVING, so that the first real
/// call does not pay for ONNX Runtime's first-run allocations (and, on CUDA, kernel selection), and
/// readiness probes only pass once the model has actually answered. Off with Dermxai:WarmUp=false.
/// </summary>
internal static class EngineWarmUp
{
    internal static async Task RunAsync(DermxaiEngine engine, ILogger logger, CancellationToken cancellation)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int side = engine.Model.ImageSize;
        var grey = new byte[side * side * 3];
        Array.Fill(grey, (byte)128);
        await engine.ExplainAsync(ImageSource.FromRgb24(grey, side, side), new ExplainOptions(), cancellation);
        logger.LogInformation("Warm-up explanation done in {Ms:F0} ms", clock.Elapsed.TotalMilliseconds);
    }
}
