using Dermxai.Attribution;

namespace Dermxai.Attribution.Tests;

/// <summary>Seeded random contract tensors: softmax attention rows, signed gradients and relevances.</summary>
internal static class RandomContract
{
    public static ContractBatch Create(int seed, int layers, int batch, int heads, int grid, int prefixTokens = 1,
        Readout readout = Readout.Class)
    {
        var random = new Random(seed);
        int tokens = grid * grid + prefixTokens;
        var shape = new AttentionShape(layers, batch, heads, tokens, prefixTokens, readout);
        var attn = new float[shape.TensorLength];
        for (long row = 0; row < shape.TensorLength / tokens; row++)
        {
            SoftmaxRow(random, attn.AsSpan((int)(row * tokens), tokens));
        }
        return new ContractBatch(shape, attn, Signed(random, shape.TensorLength, 1e-2), Signed(random, shape.TensorLength, 1e-3));
    }

    private static void SoftmaxRow(Random random, Span<float> row)
    {
        double sum = 0;
        for (int j = 0; j < row.Length; j++)
        {
            row[j] = (float)Math.Exp(3 * random.NextDouble());
            sum += row[j];
        }
        for (int j = 0; j < row.Length; j++)
        {
            row[j] = (float)(row[j] / sum);
        }
    }

    private static float[] Signed(Random random, long length, double scale)
    {
        var values = new float[length];
        for (long i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() - 0.4) * scale);
        }
        return values;
    }

    /// <summary>The same tensors with the heads of every (layer, image) block permuted.</summary>
    public static float[] PermuteHeads(AttentionShape shape, float[] tensor, int[] permutation)
    {
        var result = new float[tensor.Length];
        for (int layer = 0; layer < shape.Layers; layer++)
        {
            for (int image = 0; image < shape.Batch; image++)
            {
                long block = shape.Offset(layer, image);
                for (int head = 0; head < shape.Heads; head++)
                {
                    Array.Copy(tensor, block + (long)permutation[head] * shape.HeadStride, result,
                        block + (long)head * shape.HeadStride, shape.HeadStride);
                }
            }
        }
        return result;
    }

    /// <summary>
    /// The same tensors with the tokens renumbered: result[.., i, j] = tensor[.., order[i], order[j]] in every
    /// head's [N,N] matrix.
    /// </summary>
    public static float[] PermuteTokens(AttentionShape shape, float[] tensor, int[] order)
    {
        var result = new float[tensor.Length];
        int n = shape.Tokens;
        for (long head = 0; head < tensor.Length; head += shape.HeadStride)
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    result[head + i * n + j] = tensor[head + order[i] * n + order[j]];
                }
            }
        }
        return result;
    }

    /// <summary>The same batch with images reordered: result image k = source image order[k].</summary>
    public static ContractBatch Reorder(ContractBatch source, int[] order)
    {
        var shape = source.Shape;
        float[] Reordered(float[] tensor)
        {
            var result = new float[tensor.Length];
            for (int layer = 0; layer < shape.Layers; layer++)
            {
                for (int image = 0; image < shape.Batch; image++)
                {
                    Array.Copy(tensor, shape.Offset(layer, order[image]), result, shape.Offset(layer, image), shape.ImageLayerStride);
                }
            }
            return result;
        }
        return source with { Attn = Reordered(source.Attn), AttnGrad = Reordered(source.AttnGrad), AttnRel = Reordered(source.AttnRel) };
    }
}
