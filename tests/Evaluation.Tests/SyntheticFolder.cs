using System.Text.Json;
using Dermxai.Engine;
using Dermxai.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Dermxai.Evaluation.Tests;

/// <summary>
/// A handful of generated photos in the synthetic set's layout (images/, masks/, manifest.json): noisy
/// skin-coloured backgrounds, a dark disc "lesion" and on some a bright square "sticker". Labels are the
/// given model's own predictions, so that clean accuracy is 100 % and perturbation flips are visible.
/// </summary>
internal static class SyntheticFolder
{
    internal const string SmallModel = "small_f32";

    /// <summary>tests/.generated/models/NAME.onnx (exported by ./test.sh).</summary>
    internal static string ModelPath(string name) => RepositoryPaths.GeneratedModel(name);

    internal static DermxaiEngine LoadSmallEngine() => DermxaiEngine.Load(new EngineOptions
    {
        ModelPath = ModelPath(SmallModel),
        Device = EngineDevice.Cpu,
        IntraOpThreads = 2,
    });

    internal static async Task WriteAsync(string folder, DermxaiEngine engine, int count)
    {
        Directory.CreateDirectory(Path.Combine(folder, "images"));
        Directory.CreateDirectory(Path.Combine(folder, "masks"));
        var records = new List<object>();
        for (int i = 0; i < count; i++)
        {
            var random = new Random(1000 + i);
            int width = 128 + 8 * (i % 3), height = 112 + 6 * (i % 2);
            int cx = width / 2 + random.Next(-12, 12), cy = height / 2 + random.Next(-10, 10), radius = 14 + random.Next(10);
            bool sticker = i % 2 == 0;
            var (photo, lesion, artifact) = Draw(random, width, height, cx, cy, radius, sticker);
            string name = $"gen_{i:D3}";
            await photo.SaveAsPngAsync(Path.Combine(folder, "images", name + ".png"));
            await lesion.SaveAsPngAsync(Path.Combine(folder, "masks", name + ".lesion.png"));
            await artifact.SaveAsPngAsync(Path.Combine(folder, "masks", name + ".artifact.png"));
            var bytes = await File.ReadAllBytesAsync(Path.Combine(folder, "images", name + ".png"));
            var top = (await engine.ClassifyAsync(ImageSource.FromEncoded(bytes), 1)).Predictions[0];
            records.Add(new Dictionary<string, object>
            {
                ["name"] = name, ["image"] = $"images/{name}.png", ["label"] = top.Label,
                ["lesion_mask"] = $"masks/{name}.lesion.png", ["artifact_mask"] = $"masks/{name}.artifact.png",
                ["fitzpatrick"] = 1 + i % 2, ["background"] = i % 3 == 0 ? "paper" : "wall",
                ["artifacts"] = sticker ? new object[] { new { kind = "sticker", box = new[] { 4, 4, 24, 24 } } } : Array.Empty<object>(),
            });
            photo.Dispose(); lesion.Dispose(); artifact.Dispose();
        }
        await File.WriteAllTextAsync(Path.Combine(folder, "manifest.json"),
            JsonSerializer.Serialize(new { labels = engine.Model.Labels, images = records }));
    }

    private static (Image<Rgb24>, Image<L8>, Image<L8>) Draw(Random random, int width, int height, int cx, int cy, int radius, bool sticker)
    {
        var photo = new Image<Rgb24>(width, height);
        var lesion = new Image<L8>(width, height);
        var artifact = new Image<L8>(width, height);
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            int noise = random.Next(-20, 20);
            bool inLesion = (x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius;
            bool inSticker = sticker && x >= 6 && x < 22 && y >= 6 && y < 22;
            photo[x, y] = inSticker ? new Rgb24(250, 240, 40)
                : inLesion ? new Rgb24((byte)(90 + noise), (byte)(50 + noise), (byte)(40 + noise))
                : new Rgb24((byte)(220 + noise / 2), (byte)(180 + noise), (byte)(150 + noise));
            lesion[x, y] = new L8(inLesion ? (byte)255 : (byte)0);
            artifact[x, y] = new L8(inSticker ? (byte)255 : (byte)0);
        }
        return (photo, lesion, artifact);
    }
}
