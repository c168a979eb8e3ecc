using System.Numerics.Tensors;

namespace Dermxai.Attribution.Benchmarks;

/// <summary>
/// The bytes a method reads for one image (B = 1), as the fused path reads them: every layer from the
/// start layer up to L−2 in full for each needed tensor, and of the last layer only the CLS row of
/// every head (the fold starts from e_0, so v·M_{L-1} needs row 0 only). The memory-read floor is
/// TensorPrimitives.Sum over exactly these ranges.
/// </summary>
internal static class ReadFootprint
{
    public static float SumOfReadBytes(RelevanceMethod method, AttentionShape shape, float[] attn, float[] attnGrad,
        float[] attnRel, int startLayer)
    {
        var needs = method.Needs();
        float total = 0;
        if (needs.HasFlag(ContractTensors.Attention))
        {
            total += SumRead(method, shape, attn, startLayer);
        }
        if (needs.HasFlag(ContractTensors.AttentionGradient))
        {
            total += SumRead(method, shape, attnGrad, startLayer);
        }
        if (needs.HasFlag(ContractTensors.AttentionRelevance))
        {
            total += SumRead(method, shape, attnRel, startLayer);
        }
        return total;
    }

    private static float SumRead(RelevanceMethod method, AttentionShape shape, float[] tensor, int startLayer)
    {
        float total = 0;
        if (method.IsRollout())
        {
            int firstFull = (int)shape.Offset(startLayer, 0);
            int lastLayer = (int)shape.Offset(shape.Layers - 1, 0);
            total += TensorPrimitives.Sum(tensor.AsSpan(firstFull, lastLayer - firstFull));
        }
        return total + SumClsRows(shape, tensor);
    }

    public static long Bytes(RelevanceMethod method, AttentionShape shape, int startLayer)
    {
        int tensors = System.Numerics.BitOperations.PopCount((uint)method.Needs());
        long fullLayers = method.IsRollout() ? (long)(shape.Layers - 1 - startLayer) * shape.ImageLayerStride : 0;
        return (fullLayers + (long)shape.Heads * shape.Tokens) * sizeof(float) * tensors;
    }

    private static float SumClsRows(AttentionShape shape, float[] tensor)
    {
        float total = 0;
        int lastLayer = (int)shape.Offset(shape.Layers - 1, 0);
        for (int head = 0; head < shape.Heads; head++)
        {
            total += TensorPrimitives.Sum(tensor.AsSpan(lastLayer + head * shape.HeadStride, shape.Tokens));
        }
        return total;
    }
}
