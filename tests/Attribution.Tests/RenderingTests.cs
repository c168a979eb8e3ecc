namespace Dermxai.Attribution.Tests;

public class RenderingTests
{
    // (rows, cols, outRows, outCols, scale_factor or 0 for an explicit size)
    [TestCase(7, 7, 112, 112, 16)]
    [TestCase(14, 14, 224, 224, 16)]
    [TestCase(14, 14, 480, 640, 0)]
    [TestCase(14, 14, 333, 517, 0)]
    [TestCase(3, 5, 7, 4, 0)]
    [TestCase(1, 1, 3, 2, 0)]
    public void UpsamplingEqualsPyTorchBilinear(int rows, int cols, int outRows, int outCols, int scaleFactor)
    {
        var random = new Random(rows * 1000 + outCols);
        var src = Enumerable.Range(0, rows * cols).Select(_ => (float)random.NextDouble()).ToArray();
        var expected = TorchReference.Interpolate(src, rows, cols, outRows, outCols, scaleFactor);
        var actual = new float[outRows * outCols];

        MapRendering.UpsampleBilinear(src, rows, cols, actual, outRows, outCols);

        Assert.That(actual, Is.EqualTo(expected).Within(2e-6f));
    }

    /// <summary>
    /// OpenCV's COLORMAP_JET, independently: the GNU Octave jet formula (r = clamp(min(4x − 1.5, 4.5 − 4x)),
    /// g with 0.5/3.5, b with −0.5/2.5, x = k/255) that OpenCV's Jet class tabulates, converted by
    /// convertTo(CV_8U, 255) = round-half-even. Exact rational arithmetic puts most slope entries on exact
    /// .5 ties, where OpenCV's float32 steps decide; there we accept either neighbour. Entries known from
    /// cv2.applyColorMap output (BGR printed as RGB here) are checked exactly.
    /// </summary>
    [Test]
    public void JetMatchesOpenCvTable()
    {
        var levels = Enumerable.Range(0, 256).Select(k => k / 255f + 1e-4f).ToArray();
        levels[255] = 1f;
        var rgb = new byte[256 * 3];
        MapRendering.ApplyColormap(levels, Colormap.Jet, rgb);
        (double Offset, double Peak)[] channels = [(-1.5, 4.5), (-0.5, 3.5), (0.5, 2.5)];
        for (int k = 0; k < 256; k++)
        {
            for (int c = 0; c < 3; c++)
            {
                double exact = 255 * Math.Clamp(Math.Min(4.0 * k / 255 + channels[c].Offset, channels[c].Peak - 4.0 * k / 255), 0, 1);
                Assert.That(Math.Abs(rgb[k * 3 + c] - exact), Is.LessThanOrEqualTo(0.5 + 1e-9), $"level {k} channel {c}");
            }
        }
        Assert.That(rgb[..12], Is.EqualTo(new byte[] { 0, 0, 128, 0, 0, 132, 0, 0, 136, 0, 0, 140 }));
        Assert.That(rgb[(254 * 3)..], Is.EqualTo(new byte[] { 132, 0, 0, 128, 0, 0 }));
        Assert.That(rgb.AsSpan(96 * 3, 3).ToArray(), Is.EqualTo(new byte[] { 2, 255, 254 }));
    }

    [Test]
    public void ColormapUsesTruncatedLevelsAsTheReference()
    {
        var rgb = new byte[6];
        MapRendering.ApplyColormap([0.999f / 255f, 1.999f / 255f], Colormap.Jet, rgb);
        Assert.That(rgb, Is.EqualTo(new byte[] { 0, 0, 128, 0, 0, 132 }));
    }

    [TestCase(Colormap.Turbo, 0f, 48, 18, 59)]
    [TestCase(Colormap.Turbo, 1f, 122, 4, 3)]
    [TestCase(Colormap.Turbo, 0.5f, 164, 252, 60)]
    [TestCase(Colormap.Viridis, 0f, 68, 1, 84)]
    [TestCase(Colormap.Viridis, 1f, 253, 231, 37)]
    [TestCase(Colormap.Viridis, 0.5f, 33, 145, 140)]
    public void OtherColormapsHitKnownColours(Colormap map, float value, int r, int g, int b)
    {
        var rgb = new byte[3];
        MapRendering.ApplyColormap([value], map, rgb);
        Assert.That(rgb.Select(v => (int)v), Is.EqualTo(new[] { r, g, b }).Within(3));
    }

    [Test]
    public void NormalizationOfConstantMapGivesZeros()
    {
        float[] values = [0.3f, 0.3f, 0.3f];
        MapRendering.NormalizeMinMax(values);
        Assert.That(values, Is.All.EqualTo(0f));
    }

    [Test]
    public void NormalizationSpansZeroToOne()
    {
        float[] values = [2f, -1f, 5f, 1f];
        MapRendering.NormalizeMinMax(values);
        Assert.That(values, Is.EqualTo(new[] { 0.5f, 0f, 1f, 2f / 6f }).Within(1e-7f));
    }

    [Test]
    public void NormalizationRejectsNaN() =>
        Assert.Throws<ArgumentException>(() => MapRendering.NormalizeMinMax(new[] { 1f, float.NaN }));

    [Test]
    public void OverlayBlendsInRgbOrder()
    {
        byte[] photo = [200, 100, 0], heat = [0, 0, 255];
        var dst = new byte[3];
        MapRendering.BlendOverlay(photo, heat, 0.25f, dst);
        Assert.That(dst, Is.EqualTo(new byte[] { 150, 75, 64 }));
    }

    /// <summary>Two well-separated clusters: Otsu puts the cut between them (cv2 semantics: level &gt; t).</summary>
    [Test]
    public void OtsuSeparatesTwoClusters()
    {
        var values = Enumerable.Repeat(0.1f, 60).Concat(Enumerable.Repeat(0.8f, 40)).ToArray();
        float threshold = MapRendering.OtsuThreshold(values);
        Assert.That(threshold, Is.GreaterThan(0.1f).And.LessThanOrEqualTo(0.8f));
        var mask = new bool[values.Length];
        MapRendering.ThresholdMask(values, threshold, mask);
        Assert.That(mask.Count(m => m), Is.EqualTo(40));
    }

    [Test]
    public void TopFractionKeepsTheLargestValues()
    {
        float[] values = [0.1f, 0.9f, 0.5f, 0.9f, 0.2f, 0.7f, 0.3f, 0.0f, 0.6f, 0.4f];
        var mask = new bool[values.Length];
        MapRendering.TopFractionMask(values, 0.3f, mask);
        Assert.That(Enumerable.Range(0, values.Length).Where(i => mask[i]), Is.EqualTo(new[] { 1, 3, 5 }));
    }

    [Test]
    public void BoundingBoxCoversTheMask()
    {
        var mask = new bool[5 * 6];
        mask[1 * 6 + 2] = true;
        mask[3 * 6 + 4] = true;
        Assert.That(MapRendering.BoundingBox(mask, 5, 6), Is.EqualTo((2, 1, 3, 3)));
        Assert.That(MapRendering.BoundingBox(new bool[30], 5, 6), Is.EqualTo((0, 0, 0, 0)));
    }
}
