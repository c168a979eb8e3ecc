using Dermxai.Engine;
using Dermxai.Evaluation;

namespace Dermxai.Evaluation.Tests;

/// <summary>Reading data sets (synthetic manifest, ISIC-style CSV) and mapping masks through the crop.</summary>
public sealed class DatasetAndMaskTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder() => _folder = TempFolder.Create();

    [TearDown]
    public void DeleteFolder() => TempFolder.Delete(_folder);

    [Test]
    public void CropTakesTheMaskPixelUnderEachCropPixelCentre()
    {
        // A 336×224 photo to 112: scale 1/2, resized 168×112, left = round(56 / 2) = 28, i.e. photo x 56 to 280;
        // crop x ↔ photo column 2x + 57.
        var crop = new CropRegion(56, 0, 224, 224);
        var set = new bool[336 * 224];
        for (int y = 0; y < 224; y++) set[y * 336 + 57] = set[y * 336 + 59] = true;
        var mask = new MaskImage(set, 336, 224);

        var cropped = CroppedMasks.Crop(mask, 336, 224, crop, 112);

        var columns = Enumerable.Range(0, 112).Where(x => cropped[5 * 112 + x]).ToArray();
        Assert.That(columns, Is.EqualTo(new[] { 0, 1 }));
    }

    [Test]
    public void MaskFileOfHalfThePhotosSizeIsScaled()
    {
        var crop = new CropRegion(0, 0, 224, 224);   // a square photo: the whole photo
        var set = new bool[112 * 112];
        set[10 * 112 + 20] = true;

        var cropped = CroppedMasks.Crop(new MaskImage(set, 112, 112), 224, 224, crop, 112);

        Assert.That(Array.IndexOf(cropped, true), Is.EqualTo(10 * 112 + 20));
        Assert.That(cropped.Count(v => v), Is.EqualTo(1));
    }

    [Test]
    public void ReadsTheSyntheticManifest()
    {
        File.WriteAllText(Path.Combine(_folder, "manifest.json"), """
            {"labels": ["class_00", "class_01"], "images": [
              {"name": "a", "image": "images/a.png", "class_index": 1, "lesion_mask": "masks/a.lesion.png",
               "artifact_mask": "masks/a.artifact.png", "fitzpatrick": 4, "background": "paper",
               "artifacts": [{"kind": "sticker", "box": [1, 2, 30, 40]}]},
              {"name": "b", "image": "images/b.png", "label": "class_00"}]}
            """);

        var data = EvaluationDataset.Load(_folder, ["class_00", "class_01", "class_02"]);

        Assert.That(data.Items, Has.Count.EqualTo(2));
        var a = data.Items[0];
        Assert.Multiple(() =>
        {
            Assert.That(a.Label, Is.EqualTo(1));
            Assert.That(a.ImagePath, Is.EqualTo(Path.Combine(_folder, "images/a.png")));
            Assert.That(a.LesionMaskPath, Is.EqualTo(Path.Combine(_folder, "masks/a.lesion.png")));
            Assert.That(a.SkinTone, Is.EqualTo("4"));
            Assert.That(a.Background, Is.EqualTo("paper"));
            Assert.That(a.Artifacts, Is.EqualTo(new[] { new ArtifactRegion("sticker", 1, 2, 30, 40) }));
            Assert.That(data.Items[1].Label, Is.EqualTo(0));
            Assert.That(data.Items[1].LesionMaskPath, Is.Null);
        });
    }

    [Test]
    public void RefusesLabelsTheModelDoesNotHave()
    {
        File.WriteAllText(Path.Combine(_folder, "manifest.json"), """{"images": [{"name": "a", "image": "a.png", "label": "melanoma"}]}""");
        var error = Assert.Throws<InvalidDataException>(() => EvaluationDataset.Load(_folder, ["class_00"]));
        Assert.That(error!.Message, Does.Contain("melanoma").And.Contain("class_00"));
    }

    [Test]
    public void ReadsAnIsicStyleOneHotCsvWithSegmentationMasks()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "images"));
        Directory.CreateDirectory(Path.Combine(_folder, "masks"));
        File.WriteAllBytes(Path.Combine(_folder, "images", "ISIC_0000001.jpg"), []);
        File.WriteAllBytes(Path.Combine(_folder, "ISIC_0000002.png"), []);
        File.WriteAllBytes(Path.Combine(_folder, "masks", "ISIC_0000001_segmentation.png"), []);
        File.WriteAllText(Path.Combine(_folder, "GroundTruth.csv"), "image,MEL,NV\nISIC_0000001,0.0,1.0\nISIC_0000002,1.0,0.0\n");

        var data = EvaluationDataset.Load(_folder, ["MEL", "NV"]);

        Assert.That(data.Format, Is.EqualTo("csv"));
        Assert.That(data.Items.Select(i => i.Label), Is.EqualTo(new[] { 1, 0 }));
        Assert.That(data.Items[0].ImagePath, Is.EqualTo(Path.Combine(_folder, "images", "ISIC_0000001.jpg")));
        Assert.That(data.Items[0].LesionMaskPath, Is.EqualTo(Path.Combine(_folder, "masks", "ISIC_0000001_segmentation.png")));
        Assert.That(data.Items[1].LesionMaskPath, Is.Null);
    }

    [Test]
    public void ReadsALabelColumnCsvWithQuotedCells()
    {
        File.WriteAllBytes(Path.Combine(_folder, "x.png"), []);
        File.WriteAllText(Path.Combine(_folder, "labels.csv"), "name,label,skin_tone,background\n\"x.png\",b,\"V, dark\",wall\n");

        var item = EvaluationDataset.Load(Path.Combine(_folder, "labels.csv"), ["a", "b"]).Items.Single();

        Assert.That(item.Label, Is.EqualTo(1));
        Assert.That(item.SkinTone, Is.EqualTo("V, dark"));
        Assert.That(item.Background, Is.EqualTo("wall"));
    }
}

/// <summary>A fresh folder under the system temp directory for one test.</summary>
internal static class TempFolder
{
    public static string Create()
    {
        string path = Path.Combine(Path.GetTempPath(), "dermxai-eval-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    public static void Delete(string path)
    {
        try { Directory.Delete(path, recursive: true); }
        catch (IOException) { }
    }
}
