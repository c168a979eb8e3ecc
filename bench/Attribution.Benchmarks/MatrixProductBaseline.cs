using System.Numerics.Tensors;

namespace Dermxai.Attribution.Benchmarks;

/// <summary>
/// The straightforward implementation, shaped like the reference: materialise every layer's head-reduced
/// N×N map, add I (row-normalise for attention rollout), multiply the full N×N matrices
/// (joint = M_l · joint, O(L·N³)) and read the CLS row at the end. Allocates its matrices per call as
/// the reference does. Row-major products use the i-k-j order with TensorPrimitives for the inner row.
/// </summary>
internal static class MatrixProductBaseline
{
    public static float[] Compute(RelevanceMethod method, AttentionShape shape, float[] attn, float[] attnGrad,
        float[] attnRel, int startLayer)
    {
        int n = shape.Tokens;
        if (method == RelevanceMethod.AttentionGradCam)
        {
            var grid = new float[shape.GridCells];
            RelevanceMaps.Compute(method, shape, attn, attnGrad, attnRel, 0, grid);
            return grid;
        }
        if (!method.IsRollout())
        {
            var last = ReducedLayer(method, shape, attn, attnGrad, attnRel, shape.Layers - 1);
            return last.AsSpan(1, n - 1).ToArray();
        }
        float[]? joint = null;
        int first = method.UsesStartLayer() ? startLayer : 0;
        for (int layer = first; layer < shape.Layers; layer++)
        {
            var m = ReducedLayer(method, shape, attn, attnGrad, attnRel, layer);
            for (int i = 0; i < n; i++)
            {
                m[i * n + i] += 1f;
                if (method.NormalizesRows())
                {
                    var row = m.AsSpan(i * n, n);
                    TensorPrimitives.Divide(row, TensorPrimitives.Sum(row), row);
                }
            }
            joint = joint is null ? m : Multiply(m, joint, n);
        }
        return joint!.AsSpan(1, n - 1).ToArray();
    }

    private static float[] ReducedLayer(RelevanceMethod method, AttentionShape shape, float[] attn, float[] attnGrad,
        float[] attnRel, int layer)
    {
        var (xTensor, yTensor) = HeadReduction.Operands(method);
        int start = (int)shape.Offset(layer, 0);
        var x = Pick(xTensor, attn, attnGrad, attnRel).AsSpan(start, shape.ImageLayerStride);
        var y = yTensor == ContractTensors.None ? default : Pick(yTensor, attn, attnGrad, attnRel).AsSpan(start, shape.ImageLayerStride);
        var reduced = new float[shape.HeadStride];
        HeadReduction.ReduceLayer(method.HeadRule()!.Value, x, y, shape.Heads, shape.Tokens, reduced);
        return reduced;
    }

    private static float[] Multiply(float[] left, float[] right, int n)
    {
        var product = new float[n * n];
        for (int i = 0; i < n; i++)
        {
            var output = product.AsSpan(i * n, n);
            for (int k = 0; k < n; k++)
            {
                TensorPrimitives.MultiplyAdd(right.AsSpan(k * n, n), left[i * n + k], output, output);
            }
        }
        return product;
    }

    private static float[] Pick(ContractTensors tensor, float[] attn, float[] attnGrad, float[] attnRel) => tensor switch
    {
        ContractTensors.Attention => attn,
        ContractTensors.AttentionGradient => attnGrad,
        _ => attnRel,
    };
}
