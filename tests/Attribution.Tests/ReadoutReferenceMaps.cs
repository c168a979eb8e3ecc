namespace Dermxai.Attribution.Tests;

/// <summary>
/// Every method's map by its definition, in double with plain N×N matrix products and no code shared with
/// the kernels: r is the readout's weight vector over the N tokens, C the relevance matrix, and the map is
/// (rᵀ C)[P:] (rollouts) or (rᵀ Ā_{L-1})[P:] (last block), where the reference has C[0, 1:].
/// </summary>
internal static class ReadoutReferenceMaps
{
    /// <summary>The readout's row weights: the rows whose mean the logits read.</summary>
    public static double[] ReadoutWeights(int tokens, int prefixTokens, Readout readout)
    {
        var r = new double[tokens];
        switch (readout)
        {
            case Readout.Class:
                r[0] = 1;
                break;
            case Readout.ClassDistillation:
                r[0] = r[1] = 0.5;
                break;
            case Readout.MeanPatches:
                for (int i = prefixTokens; i < tokens; i++) r[i] = 1.0 / (tokens - prefixTokens);
                break;
            case Readout.MeanTokens:
                Array.Fill(r, 1.0 / tokens);
                break;
        }
        return r;
    }

    /// <summary>The g² map of <paramref name="image"/>, P and the readout taken from the batch's shape.</summary>
    public static double[] Map(RelevanceMethod method, ContractBatch batch, int image, int startLayer)
    {
        var shape = batch.Shape;
        var tensors = new Tensors(batch, image);
        var r = ReadoutWeights(shape.Tokens, shape.PrefixTokens, shape.Readout);
        int last = shape.Layers - 1;
        double[] row = method switch
        {
            RelevanceMethod.TransformerAttribution => Rollout(tensors, startLayer, false, (g, a, rel) => Math.Max(0, g * rel)).RowTimes(r),
            RelevanceMethod.GenericAttention => Rollout(tensors, 0, false, (g, a, rel) => Math.Max(0, g * a)).RowTimes(r),
            RelevanceMethod.AttentionRollout => Rollout(tensors, startLayer, true, (g, a, rel) => a).RowTimes(r),
            RelevanceMethod.LrpRollout => Rollout(tensors, startLayer, false, (g, a, rel) => Math.Max(0, rel)).RowTimes(r),
            RelevanceMethod.RawAttention => tensors.HeadMean(last, (g, a, rel) => Math.Max(0, a)).RowTimes(r),
            RelevanceMethod.PartialLrp => tensors.HeadMean(last, (g, a, rel) => Math.Max(0, rel)).RowTimes(r),
            RelevanceMethod.AttentionGradCam => GradCam(tensors, r),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };
        return row[shape.PrefixTokens..];
    }

    /// <summary>Ā_l of <paramref name="method"/> as the GPU-reduced path takes it ([L,B,N,N], float).</summary>
    public static float[] ReducedMaps(RelevanceMethod method, ContractBatch batch)
    {
        var shape = batch.Shape;
        Func<double, double, double, double> term = method switch
        {
            RelevanceMethod.TransformerAttribution => (g, a, rel) => Math.Max(0, g * rel),
            RelevanceMethod.GenericAttention => (g, a, rel) => Math.Max(0, g * a),
            RelevanceMethod.AttentionRollout => (g, a, rel) => a,
            RelevanceMethod.RawAttention => (g, a, rel) => Math.Max(0, a),
            _ => (g, a, rel) => Math.Max(0, rel),
        };
        var reduced = new float[shape.Layers * shape.Batch * shape.HeadStride];
        for (int layer = 0; layer < shape.Layers; layer++)
        {
            for (int image = 0; image < shape.Batch; image++)
            {
                var mean = new Tensors(batch, image).HeadMean(layer, term);
                int offset = (layer * shape.Batch + image) * shape.HeadStride;
                for (int k = 0; k < shape.HeadStride; k++) reduced[offset + k] = (float)mean.Values[k];
            }
        }
        return reduced;
    }

    /// <summary>C = M_{L-1} · … · M_s with M_l = Ā_l + I, each row divided by its sum when <paramref name="normalise"/>.</summary>
    private static Matrix Rollout(Tensors tensors, int startLayer, bool normalise, Func<double, double, double, double> term)
    {
        int n = tensors.Tokens;
        var c = Matrix.Identity(n);
        for (int layer = startLayer; layer < tensors.Layers; layer++)
        {
            var m = tensors.HeadMean(layer, term);
            for (int i = 0; i < n; i++)
            {
                m[i, i] += 1;
                double sum = Enumerable.Range(0, n).Sum(j => m[i, j]);
                for (int j = 0; j < n && normalise; j++) m[i, j] /= sum;
            }
            c = m.Times(c);
        }
        return c;
    }

    /// <summary>a_h = rᵀA_h, ∇a_h = rᵀ∇A_h on the patch columns; cam = max(0, mean_h a_h · mean(∇a_h)), min–max normalised.</summary>
    private static double[] GradCam(Tensors tensors, double[] r)
    {
        int n = tensors.Tokens, p = tensors.PrefixTokens, last = tensors.Layers - 1;
        var cam = new double[n];
        for (int h = 0; h < tensors.Heads; h++)
        {
            var a = tensors.Head(last, h, (g, att, rel) => att).RowTimes(r);
            var grad = tensors.Head(last, h, (g, att, rel) => g).RowTimes(r);
            double weight = grad[p..].Average();
            for (int j = p; j < n; j++) cam[j] += a[j] * weight / tensors.Heads;
        }
        var patches = cam[p..].Select(v => Math.Max(0, v)).ToArray();
        double min = patches.Min(), max = patches.Max();
        var normalised = patches.Select(v => max > min ? (v - min) / (max - min) : 0).ToArray();
        return [.. new double[p], .. normalised];
    }

    /// <summary>One image's [L,H,N,N] slices of the three contract tensors, read as double.</summary>
    private sealed class Tensors(ContractBatch batch, int image)
    {
        public int Layers => batch.Shape.Layers;
        public int Heads => batch.Shape.Heads;
        public int Tokens => batch.Shape.Tokens;
        public int PrefixTokens => batch.Shape.PrefixTokens;

        public Matrix Head(int layer, int head, Func<double, double, double, double> term)
        {
            int n = Tokens;
            long start = ((((long)layer * batch.Shape.Batch + image) * Heads) + head) * n * n;
            var m = new Matrix(n);
            for (int k = 0; k < n * n; k++)
            {
                m.Values[k] = term(At(batch.AttnGrad, start + k), At(batch.Attn, start + k), At(batch.AttnRel, start + k));
            }
            return m;
        }

        public Matrix HeadMean(int layer, Func<double, double, double, double> term)
        {
            var mean = new Matrix(Tokens);
            for (int h = 0; h < Heads; h++)
            {
                var head = Head(layer, h, term);
                for (int k = 0; k < mean.Values.Length; k++) mean.Values[k] += head.Values[k] / Heads;
            }
            return mean;
        }

        private static double At(float[] tensor, long index) => tensor.Length == 0 ? 0 : tensor[index];
    }

    private sealed class Matrix(int n)
    {
        public double[] Values { get; } = new double[n * n];

        public double this[int i, int j]
        {
            get => Values[i * n + j];
            set => Values[i * n + j] = value;
        }

        public static Matrix Identity(int n)
        {
            var m = new Matrix(n);
            for (int i = 0; i < n; i++) m[i, i] = 1;
            return m;
        }

        public Matrix Times(Matrix other)
        {
            var product = new Matrix(n);
            for (int i = 0; i < n; i++)
                for (int k = 0; k < n; k++)
                    for (int j = 0; j < n; j++)
                        product[i, j] += this[i, k] * other[k, j];
            return product;
        }

        /// <summary>rᵀ · this.</summary>
        public double[] RowTimes(double[] r)
        {
            var row = new double[n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    row[j] += r[i] * this[i, j];
            return row;
        }
    }
}
