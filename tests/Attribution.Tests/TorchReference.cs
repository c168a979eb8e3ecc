using System.Diagnostics;

namespace Dermxai.Attribution.Tests;

/// <summary>
/// Runs PyTorch (/usr/bin/python3 with torch, present here and in CI) at test time to produce
/// independent expected values; inputs and outputs are raw float32 files in a per-test temp folder.
/// </summary>
internal static class TorchReference
{
    private const string Python = "/usr/bin/python3";

    private const string InterpolateScript = """
        import sys, numpy as np, torch, torch.nn.functional as F
        src_path, out_path, rows, cols, out_rows, out_cols, factor = sys.argv[1:8]
        x = torch.from_numpy(np.fromfile(src_path, dtype=np.float32).reshape(1, 1, int(rows), int(cols)))
        if int(factor) > 0:
            y = F.interpolate(x, scale_factor=int(factor), mode='bilinear')
        else:
            y = F.interpolate(x, size=(int(out_rows), int(out_cols)), mode='bilinear', align_corners=False)
        assert y.shape[-2:] == (int(out_rows), int(out_cols))
        y.numpy().astype(np.float32).tofile(out_path)
        """;

    /// <summary>F.interpolate(bilinear, align_corners=False) by size, or by an integer scale_factor as the reference calls it.</summary>
    public static float[] Interpolate(float[] src, int rows, int cols, int outRows, int outCols, int scaleFactor) =>
        InTempFolder(folder =>
        {
            string srcPath = Path.Combine(folder, "src.f32"), outPath = Path.Combine(folder, "out.f32");
            File.WriteAllBytes(srcPath, System.Runtime.InteropServices.MemoryMarshal.AsBytes(src.AsSpan()).ToArray());
            Run(InterpolateScript, srcPath, outPath, rows, cols, outRows, outCols, scaleFactor);
            var bytes = File.ReadAllBytes(outPath);
            return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        });

    /// <summary>Runs <paramref name="script"/> with an output path as argv[1], then <paramref name="args"/>; returns the float64 values it wrote there.</summary>
    public static double[] RunForDoubles(string script, params object[] args) =>
        InTempFolder(folder =>
        {
            string outPath = Path.Combine(folder, "out.f64");
            Run(script, [outPath, .. args]);
            return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(File.ReadAllBytes(outPath)).ToArray();
        });

    private static T InTempFolder<T>(Func<string, T> work)
    {
        string folder = Path.Combine(Path.GetTempPath(), "dermxai-attribution-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            return work(folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Run(string script, params object[] args)
    {
        if (!File.Exists(Python))
        {
            Assert.Ignore($"{Python} is missing; the PyTorch comparison needs python3 with torch.");
        }
        var start = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(Convert.ToString(arg, System.Globalization.CultureInfo.InvariantCulture)!);
        }
        using var process = Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            if (errors.Contains("No module named 'torch'"))
            {
                Assert.Ignore("python3 has no torch; the PyTorch comparison cannot run.");
            }
            Assert.Fail($"python3 failed ({process.ExitCode}): {errors}");
        }
    }
}
