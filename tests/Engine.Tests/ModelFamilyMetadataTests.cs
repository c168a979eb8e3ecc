using Dermxai.Attribution;
using Dermxai.Engine;

namespace Dermxai.Tests;

/// <summary>The token-layout metadata: 'prefix_tokens' (P) and 'readout', their defaults and their refusals.</summary>
public sealed class ModelFamilyMetadataTests
{
    /// <summary>A valid contract-v1 description of a 48/16 model: a 3×3 grid, 2 layers, 2 heads.</summary>
    private static Dictionary<string, string> Metadata(params (string Key, string Value)[] extra)
    {
        var meta = new Dictionary<string, string>
        {
            ["dermxai.contract"] = "1",
            ["labels"] = """["nevus", "melanoma"]""",
            ["mean"] = "[0.5, 0.5, 0.5]",
            ["std"] = "[0.5, 0.5, 0.5]",
            ["crop_pct"] = "1.0",
            ["interpolation"] = "bicubic",
            ["image_size"] = "48",
            ["patch_size"] = "16",
            ["num_layers"] = "2",
            ["num_heads"] = "2",
            ["architecture"] = "vit",
        };
        foreach (var (key, value) in extra) meta[key] = value;
        return meta;
    }

    private static ModelDescription Parse(Dictionary<string, string> meta, int graphTokens = -1) =>
        ModelDescription.Parse("model.onnx", meta, new string('0', 64), graphTokens);

    private static string Refusal(Dictionary<string, string> meta, int graphTokens = -1) =>
        Assert.Throws<InvalidDataException>(() => Parse(meta, graphTokens))!.Message;

    [Test]
    public void AbsentKeysMeanOneClassToken()
    {
        var model = Parse(Metadata(), graphTokens: 10);
        Assert.That((model.PrefixTokens, model.Readout, model.Tokens), Is.EqualTo((1, Readout.Class, 10)));
        Assert.That(model.ContractShape(batch: 1), Is.EqualTo(new AttentionShape(2, 1, 2, 10)));
    }

    [TestCase("5", "class", 14, Readout.Class)]
    [TestCase("2", "class_dist", 11, Readout.ClassDistillation)]
    [TestCase("1", "mean_patches", 10, Readout.MeanPatches)]
    [TestCase("0", "mean_tokens", 9, Readout.MeanTokens)]
    [TestCase(" 4 ", " Mean_Tokens ", 13, Readout.MeanTokens)]
    public void ReadsTheTokenLayout(string prefixTokens, string readout, int tokens, Readout expected)
    {
        var model = Parse(Metadata(("prefix_tokens", prefixTokens), ("readout", readout)), graphTokens: tokens);
        var shape = model.ContractShape(batch: 3);
        Assert.That((model.Tokens, model.Readout, shape.PrefixTokens, shape.Readout, shape.GridCells, shape.Batch),
            Is.EqualTo((tokens, expected, int.Parse(prefixTokens), expected, 9, 3)));
    }

    [TestCase("-1")]
    [TestCase("two")]
    [TestCase("1.5")]
    [TestCase("")]
    public void RefusesAPrefixTokenCountThatIsNotANonNegativeInteger(string value) =>
        Assert.That(Refusal(Metadata(("prefix_tokens", value))), Does.Contain("'prefix_tokens' must be a non-negative integer"));

    [Test]
    public void RefusesAnUnknownReadout() =>
        Assert.That(Refusal(Metadata(("readout", "cls"))),
            Does.Contain("readout 'cls' is not supported (class, class_dist, mean_patches, mean_tokens)"));

    [Test]
    public void RefusesAClassReadoutWithoutAClassToken()
    {
        Assert.That(Refusal(Metadata(("prefix_tokens", "0"), ("readout", "class"))),
            Does.Contain("readout 'class' reads the class token, so it needs prefix_tokens ≥ 1, but prefix_tokens is 0"));
        Assert.That(Refusal(Metadata(("prefix_tokens", "0"))), Does.Contain("the default without a 'readout' entry"));
    }

    [Test]
    public void RefusesADistillationReadoutWithoutTwoPrefixTokens() =>
        Assert.That(Refusal(Metadata(("prefix_tokens", "1"), ("readout", "class_dist"))),
            Does.Contain("readout 'class_dist' reads the class and distillation tokens, so it needs prefix_tokens ≥ 2, but prefix_tokens is 1"));

    [Test]
    public void RefusesATokenCountThatDisagreesWithTheGraph() =>
        Assert.That(Refusal(Metadata(("prefix_tokens", "5")), graphTokens: 10),
            Does.Contain("prefix_tokens 5 + grid² 9 = 14 tokens, but the graph's attention outputs have N = 10"));

    [Test]
    public void LoadingChecksTheTokenCountAgainstTheGraphsAttentionOutputs()
    {
        string path = Path.Combine(TestContext.CurrentContext.WorkDirectory, $"{TestContext.CurrentContext.Test.ID}-registers.onnx");
        File.WriteAllBytes(path, [.. File.ReadAllBytes(TestPaths.Model("small_f32")), .. TinyOnnx.MetadataEntry("prefix_tokens", "2")]);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => DermxaiEngine.Load(new EngineOptions { ModelPath = path, Device = EngineDevice.Cpu }));
            Assert.That(e!.Message, Does.Contain("prefix_tokens 2 + grid² 49 = 51 tokens, but the graph's attention outputs have N = 50"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
