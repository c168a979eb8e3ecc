using System.Runtime.InteropServices;
using Dermxai.GraphRunner;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// GraphRunner --model MODEL.onnx --out DIR --input NAME=FILE.npy [--input NAME=FILE.npy ...] [--threads N]
// Runs the graph once on the CPU execution provider (graph optimisation ALL) and writes each output
// as DIR/NAME.npy; prints one line per output. Exit 2 on bad arguments, 1 on a failed run.
var inputs = new List<(string Name, string Path)>();
string? model = null, outDir = null;
int threads = 2;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--model": model = Next(); break;
        case "--out": outDir = Next(); break;
        case "--threads": threads = int.Parse(Next()); break;
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
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        IntraOpNumThreads = threads,
        InterOpNumThreads = 1,
    };
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
    var started = System.Diagnostics.Stopwatch.StartNew();
    using var results = session.Run(feeds);
    Console.WriteLine($"run: {started.Elapsed.TotalMilliseconds:F0} ms, ONNX Runtime {OrtEnv.Instance().GetVersionString()}, CPU, {threads} threads");
    foreach (var result in results)
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
