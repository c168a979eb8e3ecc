using System.Runtime.InteropServices;
using Dermxai.GraphRunner;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// GraphRunner --model MODEL.onnx --out DIR --input NAME=FILE.npy [--input NAME=FILE.npy ...] [--threads N]
//             [--repeat N] [--profile PREFIX] [--optimization basic|all] [--config KEY=VALUE ...]
// Runs the graph on the CPU execution provider (graph optimisation ALL unless told) and writes each
// output of the last run as DIR/NAME.npy; prints each run's time and one line per output. --profile
// writes ONNX Runtime's per-node profile (chrome trace JSON) beside PREFIX; --config sets a session
// configuration entry (e.g. session.set_denormal_as_zero=1). Exit 2 on bad arguments,
// 1 on a failed run.
var inputs = new List<(string Name, string Path)>();
var config = new List<string[]>();
string? model = null, outDir = null;
int threads = 2, repeat = 1;
string? profile = null;
var optimization = GraphOptimizationLevel.ORT_ENABLE_ALL;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--model": model = Next(); break;
        case "--out": outDir = Next(); break;
        case "--threads": threads = int.Parse(Next()); break;
        case "--repeat": repeat = Math.Max(1, int.Parse(Next())); break;
        case "--profile": profile = Next(); break;
        case "--optimization":
            optimization = Next() == "basic" ? GraphOptimizationLevel.ORT_ENABLE_BASIC : GraphOptimizationLevel.ORT_ENABLE_ALL;
            break;
        case "--config":
            var entry = Next().Split('=', 2);
            if (entry.Length != 2) { Console.Error.WriteLine("GraphRunner: --config needs KEY=VALUE."); return 2; }
            config.Add(entry);
            break;
        case "--input":
            var pair = Next().Split('=', 2);
            if (pair.Length != 2) { Console.Error.WriteLine("GraphRunner: --input needs NAME=FILE.npy."); return 2; }
            inputs.Add((pair[0], pair[1]));
            break;
        default: Console.Error.WriteLine($"GraphRunner: unknown argument {args[i]}."); return 2;
    }
}
if (model is null || outDir is null || inputs.Count == 0)
{
    Console.Error.WriteLine("GraphRunner: usage: --model MODEL.onnx --out DIR --input NAME=FILE.npy [...] [--threads N].");
    return 2;
}
try
{
    Directory.CreateDirectory(outDir);
    using var options = new SessionOptions
    {
        GraphOptimizationLevel = optimization,
        IntraOpNumThreads = threads,
        InterOpNumThreads = 1,
    };
    if (profile is not null) { options.EnableProfiling = true; options.ProfileOutputPathPrefix = profile; }
    foreach (var entry in config) options.AddSessionConfigEntry(entry[0], entry[1]);
    using var session = new InferenceSession(model, options);
    var feeds = new List<NamedOnnxValue>();
    foreach (var (name, path) in inputs)
    {
        var array = Npy.Read(path);
        var dims = array.Shape.Select(d => (int)d).ToArray();
        feeds.Add(array.Dtype switch
        {
            "<f4" => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(MemoryMarshal.Cast<byte, float>(array.Data).ToArray(), dims)),
            "<f8" => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<double>(MemoryMarshal.Cast<byte, double>(array.Data).ToArray(), dims)),
            _ => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(MemoryMarshal.Cast<byte, long>(array.Data).ToArray(), dims)),
        });
    }
    IDisposableReadOnlyCollection<DisposableNamedOnnxValue>? results = null;
    for (int run = 1; run <= repeat; run++)
    {
        results?.Dispose();
        var started = System.Diagnostics.Stopwatch.StartNew();
        results = session.Run(feeds);
        Console.WriteLine($"run {run}: {started.Elapsed.TotalMilliseconds:F0} ms, ONNX Runtime {OrtEnv.Instance().GetVersionString()}, CPU, {threads} threads");
    }
    if (profile is not null) Console.WriteLine($"profile -> {session.EndProfiling()}");
    foreach (var result in results!)
    {
        var path = Path.Combine(outDir, result.Name + ".npy");
        switch (result.Value)
        {
            case DenseTensor<float> t: Save(path, "<f4", t.Dimensions, MemoryMarshal.AsBytes(t.Buffer.Span)); break;
            case DenseTensor<double> t: Save(path, "<f8", t.Dimensions, MemoryMarshal.AsBytes(t.Buffer.Span)); break;
            case DenseTensor<long> t: Save(path, "<i8", t.Dimensions, MemoryMarshal.AsBytes(t.Buffer.Span)); break;
            default: throw new InvalidDataException($"output {result.Name} has an element type the runner does not write");
        }
        Console.WriteLine($"output {result.Name} -> {path}");
    }
    results.Dispose();
    return 0;
}
catch (Exception e) when (e is OnnxRuntimeException or IOException or InvalidDataException or ArgumentException or FormatException)
{
    Console.Error.WriteLine($"GraphRunner: {e.Message}");
    return 1;
}

static void Save(string path, string descr, ReadOnlySpan<int> dims, ReadOnlySpan<byte> data)
{
    var shape = new long[dims.Length];
    for (int i = 0; i < dims.Length; i++) shape[i] = dims[i];
    Npy.Write(path, descr, shape, data);
}
