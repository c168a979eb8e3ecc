using Dermxai.Engine;
using Dermxai.Evaluation;

namespace Dermxai.Evaluation.Tests;

/// <summary>Removal order, pixel counts, masking and AUC of the perturbation test against hand values.</summary>
public sealed class PerturbationTestTests
{
    [Test]
    public void PixelCountsTruncateAsPythonsInt()
    {
        // [int(50176 * p) for p in (0.1, …, 0.9)] and the same for 112 × 112, computed in Python.
        int[] expected224 = [5017, 10035, 15052, 20070, 25088, 30105, 35123, 40140, 45158];
        int[] expected112 = [1254, 2508, 3763, 5017, 6272, 7526, 8780, 10035, 11289];
        for (int step = 1; step < PerturbationTest.Steps; step++)
        {
            Assert.That(PerturbationTest.PixelsRemoved(224 * 224, step), Is.EqualTo(expected224[step - 1]));
            Assert.That(PerturbationTest.PixelsRemoved(112 * 112, step), Is.EqualTo(expected112[step - 1]));
        }
    }

    [Test]
    public void PositiveRemovesMostRelevantFirstAndNegativeLeastRelevantFirst()
    {
        float[] map = [0.5f, 0.9f, 0.5f, 0.1f, -0.2f];
        Assert.That(PerturbationTest.RemovalOrder(map, PerturbationMode.Positive), Is.EqualTo(new[] { 1, 0, 2, 3, 4 }));
        Assert.That(PerturbationTest.RemovalOrder(map, PerturbationMode.Negative), Is.EqualTo(new[] { 4, 3, 0, 2, 1 }));
    }

    [Test]
    public void RemovesExactlyTheFirstKPixelsInEveryChannel()
    {
        var model = TinyModel(size: 4, mean: [0.5, 0.4, 0.3], std: [0.5, 0.2, 0.1]);
        var random = new Random(7);
        var map = Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble()).ToArray();
        var pixels = Enumerable.Range(0, 48).Select(i => 10f + i).ToArray();
        var order = PerturbationTest.RemovalOrder(map, PerturbationMode.Positive);
        var topFive = Enumerable.Range(0, 16).OrderByDescending(i => map[i]).Take(5).ToHashSet();

        var perturbed = (float[])PerturbationTest.RemovePixels(pixels, order, 5, model);

        float[] black = [(0 - 0.5f) / 0.5f, (0 - 0.4f) / 0.2f, (0 - 0.3f) / 0.1f];
        for (int c = 0; c < 3; c++)
        for (int p = 0; p < 16; p++)
        {
            float expected = topFive.Contains(p) ? black[c] : pixels[c * 16 + p];
            Assert.That(perturbed[c * 16 + p], Is.EqualTo(expected).Within(1e-6), $"channel {c}, pixel {p}");
        }
        Assert.That(pixels[0], Is.EqualTo(10f), "the clean image is not modified");
    }

    [Test]
    public void RemovesInDoublePrecisionForFloat64Models()
    {
        var model = TinyModel(size: 2, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]);
        var pixels = new double[12];
        var perturbed = (double[])PerturbationTest.RemovePixels(pixels, [3, 0, 1, 2], 1, model);
        Assert.That(perturbed[3], Is.EqualTo(-0.485 / 0.229).Within(1e-15));
        Assert.That(perturbed[2 * 4 + 3], Is.EqualTo(-0.406 / 0.225).Within(1e-15));
        Assert.That(perturbed.Count(v => v != 0), Is.EqualTo(3));
    }

    [Test]
    public void AucIsTheTrapezoidOverZeroToPointNineTimesHundred()
    {
        Assert.That(PerturbationTest.Auc(Enumerable.Repeat(1.0, 10).ToArray()), Is.EqualTo(90).Within(1e-9));
        // y = 1 − x is linear, so the trapezoid is exact: ∫₀^0.9 (1 − x) dx = 0.495.
        Assert.That(PerturbationTest.Auc(PerturbationTest.Fractions.Select(x => 1 - x).ToArray()), Is.EqualTo(49.5).Within(1e-9));
        // Clean accuracy 0.8, then 0: only the first trapezoid counts, 0.1 · 0.8 / 2.
        Assert.That(PerturbationTest.Auc([0.8, 0, 0, 0, 0, 0, 0, 0, 0, 0]), Is.EqualTo(4).Within(1e-9));
    }

    [Test]
    public void CurvesAverageTheStepsOverImages()
    {
        var a = new PerturbationOutcome(PerturbationMode.Positive, ExplainedClass.Predicted,
            [true, true, false, false, false, false, false, false, false, false], [0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
        var b = new PerturbationOutcome(PerturbationMode.Positive, ExplainedClass.Predicted,
            [true, false, false, false, false, false, false, false, false, false], [1, 0, 0, 1, 1, 1, 1, 1, 1, 1]);

        var curve = EvaluationSummary.Curves([[a], [b]], ["a", "b"]).Single();

        Assert.That(curve.Accuracy.Take(3), Is.EqualTo(new[] { 1.0, 0.5, 0.0 }));
        Assert.That(curve.Auc, Is.EqualTo(100 * (0.1 * (1 + 0.5) / 2 + 0.1 * 0.5 / 2)).Within(1e-9));
        Assert.That(curve.Images, Is.EqualTo(2));
        Assert.That(curve.TopPrediction.Take(3), Is.EqualTo(new[] { "a", "a", "a" }), "ties go to the lower class index");
        Assert.That(curve.TopPredictionShare.Take(4), Is.EqualTo(new[] { 0.5, 1.0, 0.5, 1.0 }));
    }

    internal static ModelDescription TinyModel(int size, double[] mean, double[] std) => new()
    {
        Labels = ["a", "b"], ImageSize = size, PatchSize = size, NumLayers = 1, NumHeads = 1, Mean = mean, Std = std,
        CropPct = 1, Interpolation = "bilinear", Architecture = "test", CheckpointSha256 = "", CreatedBy = "", DType = "float32",
        ModelSha256 = "",
    };
}
