using Dermxai.Attribution;
using Dermxai.Engine;
using Dermxai.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Dermxai.Tests;

/// <summary>The public batch calls offline tools use, checked against the engine's own Explain and Classify calls.</summary>
public sealed class EngineBatchesTests
{
    private static byte[] GoldenPng(int image) =>
        File.ReadAllBytes(Path.Combine(RepositoryPaths.Golden, "small", "images", $"img{image}.png"));

    [Test]
    public async Task ExplainBatchGivesTheGridsOfExplainForEveryMethod()
    {
        var engine = TestEngines.Get("small_f32");
        var photos = Enumerable.Range(0, 3).Select(i => engine.Prepare(GoldenPng(i))).ToArray();

        var rows = engine.ExplainBatch(photos.Select(p => p.Pixels).ToArray(), [-1, 2, -1], RelevanceMethods.All, startLayer: 1);

        for (int i = 0; i < rows.Length; i++)
        foreach (var method in RelevanceMethods.All)
        {
            var targets = i == 1 ? new[] { TargetRequest.ClassIndex(2) } : [TargetRequest.Predicted];
            var explained = await engine.ExplainAsync(ImageSource.FromEncoded(GoldenPng(i)),
                new ExplainOptions { Methods = [method.Id()], Targets = targets, StartLayer = 1 });
            Assert.That(rows[i].Target, Is.EqualTo(explained.Explanations[0].Target.Index), $"image {i}");
            Assert.That(rows[i].Grids[method], Is.EqualTo(explained.Explanations[0].Grid).Within(1e-5f), $"image {i} {method.Id()}");
        }
    }

    [Test]
    public async Task ClassifyBatchGivesTheLogitsOfClassify()
    {
        var engine = TestEngines.Get("small_f32");
        var photos = Enumerable.Range(0, 4).Select(i => engine.Prepare(GoldenPng(i))).ToArray();

        var logits = engine.ClassifyBatch(photos.Select(p => p.Pixels).ToArray());

        for (int i = 0; i < logits.Length; i++)
        {
            var classified = await engine.ClassifyAsync(ImageSource.FromEncoded(GoldenPng(i)), engine.Model.NumClasses);
            foreach (var score in classified.Predictions)
                Assert.That(logits[i][score.Index], Is.EqualTo(score.Logit).Within(1e-4), $"image {i} class {score.Index}");
        }
    }

    [Test]
    public void PrepareReportsThePhotoAndItsCentreCrop()
    {
        var engine = TestEngines.Get("small_f32");
        using var image = new Image<Rgb24>(200, 120);
        using var png = new MemoryStream();
        image.SaveAsPng(png);

        var photo = engine.Prepare(png.ToArray());

        Assert.That((photo.PhotoWidth, photo.PhotoHeight), Is.EqualTo((200, 120)));
        // crop_pct 1: a square as high as the photo, centred (to within the resize's rounding).
        Assert.That(photo.Crop.Y, Is.EqualTo(0).Within(1e-9));
        Assert.That(photo.Crop.Height, Is.EqualTo(120).Within(1));
        Assert.That(photo.Crop.Width, Is.EqualTo(120).Within(1));
        Assert.That(photo.Crop.X, Is.EqualTo(40).Within(1));
        Assert.That(photo.Pixels, Is.TypeOf<float[]>().And.Length.EqualTo(3 * 112 * 112));
    }

    [Test]
    public void BatchCallsRefuseTensorsOfAnotherShapeOrType()
    {
        var engine = TestEngines.Get("small_f32");
        Assert.Throws<ArgumentException>(() => engine.ClassifyBatch([new float[10]]));
        Assert.Throws<ArgumentException>(() => engine.ClassifyBatch([new double[3 * 112 * 112]]));
        Assert.Throws<ArgumentException>(() => engine.ExplainBatch([new float[3 * 112 * 112]], [], RelevanceMethods.All, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => engine.ExplainBatch([new float[3 * 112 * 112]], [engine.Model.NumClasses], RelevanceMethods.All, 0));
    }

    [TestCase("auto", EngineDevice.Auto)]
    [TestCase(" CUDA ", EngineDevice.Cuda)]
    [TestCase("gpu", EngineDevice.Cuda)]
    [TestCase("Cpu", EngineDevice.Cpu)]
    public void DeviceNamesParseOneWayEverywhere(string text, EngineDevice expected) =>
        Assert.That(EngineDevices.Parse(text), Is.EqualTo(expected));

    [TestCase("tpu")]
    [TestCase("")]
    [TestCase(null)]
    public void UnknownDeviceNamesAreRefusedNamingTheChoices(string? text)
    {
        Assert.That(EngineDevices.TryParse(text, out _), Is.False);
        Assert.That(() => EngineDevices.Parse(text), Throws.TypeOf<FormatException>().With.Message.Contains(EngineDevices.Choices));
    }
}
