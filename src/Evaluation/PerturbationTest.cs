using Dermxai.Engine;

namespace Dermxai.Evaluation;

/// <summary>Positive: the most relevant pixels go first (accuracy should fall fast). Negative: the least relevant.</summary>
internal enum PerturbationMode { Positive, Negative }

/// <summary>
/// The perturbation test of docs/methods.md#perturbation-test: the map upsampled to S×S ranks the pixels; at each step
/// p = 0.1 … 0.9 the first k = int(S·S·p) pixels of the ranking are set to 0 in all three channels of
/// the [0,1] image (the normalised value (0 − mean)/std), and the image is classified again.
/// AUC = trapz(accuracy, x = 0, 0.1, …, 0.9) × 100, x = 0 being the clean accuracy.
/// </summary>
internal static class PerturbationTest
{
    /// <summary>x of the curve; index 0 is the clean image.</summary>
    internal static readonly double[] Fractions = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

    internal static int Steps => Fractions.Length;

    /// <summary>int(S·S·p) as the reference's int(base_size * p).</summary>
    internal static int PixelsRemoved(int pixels, int step) => (int)(pixels * Fractions[step]);

    /// <summary>Pixel indices in removal order for <paramref name="mode"/>.</summary>
    internal static int[] RemovalOrder(ReadOnlySpan<float> upsampledMap, PerturbationMode mode) =>
        mode == PerturbationMode.Positive ? ValueOrder.Descending(upsampledMap) : ValueOrder.Ascending(upsampledMap);

    /// <summary>Trapezoidal area under accuracy(x) over <see cref="Fractions"/>, × 100.</summary>
    internal static double Auc(ReadOnlySpan<double> accuracy)
    {
        if (accuracy.Length != Fractions.Length)
            throw new ArgumentException($"accuracy has {accuracy.Length} points; expected {Fractions.Length} (x = 0, 0.1, …, 0.9).", nameof(accuracy));
        double area = 0;
        for (int i = 1; i < Fractions.Length; i++)
            area += (Fractions[i] - Fractions[i - 1]) * (accuracy[i] + accuracy[i - 1]) / 2;
        return area * 100;
    }

    /// <summary>
    /// A copy of the normalised [3, S, S] image (float[] or double[]) with the first
    /// <paramref name="count"/> pixels of <paramref name="order"/> black in every channel.
    /// </summary>
    internal static Array RemovePixels(Array normalized, ReadOnlySpan<int> order, int count, ModelDescription model)
    {
        int plane = model.ImageSize * model.ImageSize;
        var removed = order[..count];
        var copy = (Array)normalized.Clone();
        for (int c = 0; c < 3; c++)
        {
            double black = BlackValue(model, c);
            if (copy is double[] doubles)
            {
                var channel = doubles.AsSpan(c * plane, plane);
                foreach (int pixel in removed) channel[pixel] = black;
            }
            else
            {
                var channel = ((float[])copy).AsSpan(c * plane, plane);
                foreach (int pixel in removed) channel[pixel] = (float)black;
            }
        }
        return copy;
    }

    /// <summary>The normalised value of a black pixel in channel <paramref name="channel"/>.</summary>
    internal static double BlackValue(ModelDescription model, int channel) => (0 - model.Mean[channel]) / model.Std[channel];
}
