using System.Text.Json;
using Dermxai.Engine;
using Dermxai.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Dermxai.Tests;

/// <summary>Decode + timm eval transform against torchvision's output on PIL images (golden preprocess/).</summary>
public sealed class PreprocessTests
{
    public sealed record Case(string File, string Expected, string Format, int ImageSize, double CropPct, string Interpolation, double[] Mean, double[] Std)
    {
        public override string ToString() => File;
    }

    private static IEnumerable<Case> Cases()
    {
        string folder = Path.Combine(RepositoryPaths.Golden, "preprocess");
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "manifest.json")));
        foreach (var c in manifest.RootElement.EnumerateArray())
        {
            yield return new Case(c.GetProperty("file").GetString()!, c.GetProperty("expected").GetString()!, c.GetProperty("format").GetString()!,
                c.GetProperty("image_size").GetInt32(), c.GetProperty("crop_pct").GetDouble(),
                c.GetProperty("interpolation").GetString()!,
                c.GetProperty("mean").EnumerateArray().Select(v => v.GetDouble()).ToArray(),
                c.GetProperty("std").EnumerateArray().Select(v => v.GetDouble()).ToArray());
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesTorchvisionWithinTheGoldenTolerance(Case c)
    {
        string folder = Path.Combine(RepositoryPaths.Golden, "preprocess");
        var photo = new ImageDecoder(new ImageLimits()).Decode(File.ReadAllBytes(Path.Combine(folder, c.File)));
        var (rgb, _) = Preprocessor.ResizeAndCrop(photo, c.ImageSize, c.CropPct, c.Interpolation);
        // torchvision's tensor is its resized 8-bit crop / 255, normalised: the golden set keeps that crop.
        using var expected = Image.Load<Rgb24>(RepositoryPaths.GoldenFile("preprocess", c.Expected));
        Assert.That((expected.Width, expected.Height), Is.EqualTo((c.ImageSize, c.ImageSize)));

        int plane = c.ImageSize * c.ImageSize;
        double sum = 0, max = 0;
        for (int ch = 0; ch < 3; ch++)
        for (int i = 0; i < plane; i++)
        {
            var pixel = expected[i % c.ImageSize, i / c.ImageSize];
            double reference = (ch == 0 ? pixel.R : ch == 1 ? pixel.G : pixel.B) / 255.0;
            double diff = Math.Abs(rgb[3 * i + ch] / 255.0 - reference);
            sum += diff;
            max = Math.Max(max, diff);
        }
        double mean = sum / (3 * plane);
        TestContext.Out.WriteLine($"preprocess {c.File}: mean abs diff {mean:E3}, max abs diff {max:E3} ([0,1] units)");

        // The resampler is Pillow's, bit for bit: every PNG case is exact (the golden README asks exact
        // only for p224_exact.png, mean ≤ 0.004 for the others).
        if (c.Format == "PNG") Assert.That(max, Is.LessThan(1e-6));
        else Assert.That(mean, Is.LessThanOrEqualTo(0.01), "JPEG decoders differ from libjpeg by design");
    }

    [Test]
    public void ExifOrientationSixIsViewedRotated()
    {
        var bytes = File.ReadAllBytes(Path.Combine(RepositoryPaths.Golden, "preprocess", "j600x800_exif6.jpg"));
        Assert.That(ExifOrientation.Read(bytes, isJpeg: true), Is.EqualTo(6));
        var photo = new ImageDecoder(new ImageLimits()).Decode(bytes);
        Assert.That((photo.Width, photo.Height), Is.EqualTo((600, 800)), "stored 800x600, viewed 600x800");
    }

    [TestCase(1, 0, 0)]
    [TestCase(3, 2, 1)]
    [TestCase(6, 1, 0)]
    [TestCase(8, 0, 2)]
    public void OrientationMovesTheStoredTopLeftPixelWhereAViewerShowsIt(int orientation, int expectedX, int expectedY)
    {
        // Stored 3x2 image with one marked pixel at the stored top-left.
        var rgb = new byte[3 * 2 * 3];
        rgb[0] = 255;
        var (viewed, w, _) = ExifOrientation.Apply(rgb, 3, 2, orientation);
        int marked = Array.IndexOf(viewed, (byte)255) / 3;
        Assert.That((marked % w, marked / w), Is.EqualTo((expectedX, expectedY)));
    }

    [Test]
    public void CenterCropRoundsHalfToEvenAsPython()
    {
        // 225 tall, S = 224, crop_pct 1: short side 224 → (224, 225·224/224) ... use a photo whose resized
        // height exceeds S by one: top = round(0.5) = 0 in Python (banker's rounding), not 1.
        var photo = new DecodedImage(Enumerable.Range(0, 224 * 225 * 3).Select(i => (byte)(i / (224 * 3))).ToArray(), 224, 225);
        var (rgb, crop) = Preprocessor.ResizeAndCrop(photo, 224, 1.0, "bicubic");
        Assert.That(crop.Y, Is.EqualTo(0));
        Assert.That(rgb[0], Is.EqualTo(0), "first row of the crop is the photo's first row");
    }
}
