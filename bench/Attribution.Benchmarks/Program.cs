using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Dermxai.Attribution.Benchmarks;

public static class Program
{
    /// <summary>
    /// In-process short runs (3 warm-up + 3 measured iterations) so the whole suite ends in minutes on a
    /// shared 2-core machine and never builds generated projects inside the repository.
    /// Extra BenchmarkDotNet arguments (e.g. --filter *Fused*) pass through.
    /// </summary>
    public static void Main(string[] args)
    {
        if (args is ["--verify"])
        {
            VerifyBaselines();
            return;
        }
        var config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithId("ShortInProcess"))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }

    /// <summary>Checks that the fused path and the matrix-product baseline agree on the benchmark inputs.</summary>
    private static void VerifyBaselines()
    {
        foreach (var model in Enum.GetValues<ModelShape>())
        {
            foreach (var method in RelevanceMethods.All)
            {
                var bench = new RelevanceMapBenchmarks { Model = model, Method = method };
                bench.Setup();
                var (fused, baseline, bytes) = bench.BothResults();
                double maxError = 0, maxValue = 0;
                for (int i = 0; i < fused.Length; i++)
                {
                    maxError = Math.Max(maxError, Math.Abs(fused[i] - baseline[i]));
                    maxValue = Math.Max(maxValue, Math.Abs(baseline[i]));
                }
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int call = 0; call < 10; call++)
                {
                    bench.Fused();
                }
                double allocatedPerCall = (GC.GetAllocatedBytesForCurrentThread() - before) / 10.0;
                Console.WriteLine($"{model,-8} {method.Id(),-24} reads {bytes / 1e6,8:F2} MB  fused vs matrix products: {maxError / maxValue:E2}  allocated/call: {allocatedPerCall} B");
            }
        }
    }
}
