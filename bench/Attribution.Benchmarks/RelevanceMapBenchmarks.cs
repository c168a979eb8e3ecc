using BenchmarkDotNet.Attributes;

namespace Dermxai.Attribution.Benchmarks;

/// <summary>
/// Per-image (B = 1) time and allocations of every method at ViT-B/16 and ViT-Ti/16 shapes, beside the
/// memory-read floor (TensorPrimitives.Sum over the same bytes) and the matrix-product baseline.
/// start_layer = 0 (the reference notebooks' default, the most work).
/// </summary>
[MemoryDiagnoser]
public class RelevanceMapBenchmarks
{
    private const int StartLayer = 0;
    private AttentionShape shape;
    private float[] attn = [], attnGrad = [], attnRel = [], grid = [];

    [ParamsAllValues]
    public ModelShape Model { get; set; }

    [ParamsAllValues]
    public RelevanceMethod Method { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        shape = ModelShapes.Of(Model);
        var random = new Random(42);
        attn = SoftmaxRows(random, shape);
        attnGrad = Signed(random, shape.TensorLength, 1e-2f);
        attnRel = Signed(random, shape.TensorLength, 1e-3f);
        grid = new float[shape.GridCells];
    }

    [Benchmark(Baseline = true, Description = "memory-read floor")]
    public float MemoryReadFloor() => ReadFootprint.SumOfReadBytes(Method, shape, attn, attnGrad, attnRel, StartLayer);

    [Benchmark(Description = "fused (RelevanceMaps.Compute)")]
    public float Fused()
    {
        RelevanceMaps.Compute(Method, shape, attn, attnGrad, attnRel, StartLayer, grid);
        return grid[0];
    }

    [Benchmark(Description = "matrix products (reference-shaped)")]
    public float MatrixProducts() => MatrixProductBaseline.Compute(Method, shape, attn, attnGrad, attnRel, StartLayer)[0];

    internal (float[] Fused, float[] Baseline, long BytesRead) BothResults()
    {
        Fused();
        return (grid.ToArray(), MatrixProductBaseline.Compute(Method, shape, attn, attnGrad, attnRel, StartLayer),
            ReadFootprint.Bytes(Method, shape, StartLayer));
    }

    private static float[] SoftmaxRows(Random random, AttentionShape shape)
    {
        var values = new float[shape.TensorLength];
        int n = shape.Tokens;
        for (long start = 0; start < values.Length; start += n)
        {
            var row = values.AsSpan((int)start, n);
            for (int j = 0; j < n; j++)
            {
                row[j] = MathF.Exp(3f * random.NextSingle());
            }
            System.Numerics.Tensors.TensorPrimitives.Divide(row, System.Numerics.Tensors.TensorPrimitives.Sum(row), row);
        }
        return values;
    }

    private static float[] Signed(Random random, long length, float scale)
    {
        var values = new float[length];
        for (long i = 0; i < length; i++)
        {
            values[i] = (random.NextSingle() - 0.4f) * scale;
        }
        return values;
    }
}
