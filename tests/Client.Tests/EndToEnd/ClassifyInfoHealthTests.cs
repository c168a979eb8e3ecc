using System.Text.Json;

namespace Dermxai.Client.Tests.EndToEnd;

[TestFixture]
public sealed class ClassifyInfoHealthTests
{
    [Test]
    public async Task Classify_gives_the_reference_models_top_class_for_each_image()
    {
        using var temp = new TempFolder();
        var input = GoldenSmall.FolderWithOneBrokenFile(temp, out var broken);
        var run = await CliRun.RunAsync("classify", Path.Combine(input, "*.png"), "--server", LiveServer.Url, "--top-k", "3", "--json", temp.File("c.json"));

        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.ErrorLines.Single(l => l.StartsWith("FAILED")), Does.Contain(broken));
        using var report = JsonDocument.Parse(File.ReadAllText(temp.File("c.json")));
        var labels = GoldenSmall.Labels;
        foreach (var (image, predicted) in GoldenSmall.PredictedClassByImage())
        {
            var entry = report.RootElement.GetProperty("images").EnumerateArray().Single(i => i.GetProperty("file").GetString()!.EndsWith(image));
            var predictions = entry.GetProperty("predictions");
            Assert.That(predictions.GetArrayLength(), Is.EqualTo(3));
            Assert.That(predictions[0].GetProperty("index").GetInt32(), Is.EqualTo(predicted), image);
            Assert.That(run.Out, Does.Contain(image).And.Contain(labels[predicted]));
        }
    }

    [Test]
    public async Task Json_to_standard_output_leaves_it_pure_json()
    {
        var run = await CliRun.RunAsync("classify", TestPaths.GoldenImages[1], "--server", LiveServer.Url, "--json=-");

        Assert.That(run.ExitCode, Is.EqualTo(0));
        using var report = JsonDocument.Parse(run.Out);
        Assert.That(report.RootElement.GetProperty("succeeded").GetInt32(), Is.EqualTo(1));
        Assert.That(run.Error, Does.Contain("img1.png"), "the table goes to standard error");
    }

    [Test]
    public async Task Info_shows_the_model_card_labels_and_methods()
    {
        var run = await CliRun.RunAsync("info", "--server", LiveServer.Url);

        Assert.That(run.ExitCode, Is.EqualTo(0));
        Assert.That(run.Out, Does.Contain("112 / 16 / 7×7"));
        foreach (var label in GoldenSmall.Labels) Assert.That(run.Out, Does.Contain(label));
        Assert.That(run.Out, Does.Contain("transformer_attribution (default)"));
        foreach (var method in new[] { "generic_attention", "attention_rollout", "lrp_rollout", "raw_attention", "partial_lrp" })
            Assert.That(run.Out, Does.Contain(method));
    }

    [Test]
    public async Task Info_json_is_the_model_info_message()
    {
        var run = await CliRun.RunAsync("info", "--server", LiveServer.Url, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0));
        using var info = JsonDocument.Parse(run.Out);
        Assert.That(info.RootElement.GetProperty("labels").EnumerateArray().Select(l => l.GetString()), Is.EqualTo(GoldenSmall.Labels));
        Assert.That(info.RootElement.GetProperty("gridSize").GetInt32(), Is.EqualTo(GoldenSmall.GridSide));
        Assert.That(info.RootElement.GetProperty("imageSize").GetInt32(), Is.EqualTo(GoldenSmall.ImageSize));
        Assert.That(info.RootElement.GetProperty("contractVersion").GetInt32(), Is.EqualTo(1));
    }

    [Test]
    public async Task Health_says_serving()
    {
        var run = await CliRun.RunAsync("health", "--server", LiveServer.Url);

        Assert.That(run.ExitCode, Is.EqualTo(0));
        Assert.That(run.Out, Does.Contain("SERVING"));
    }

    [Test]
    public async Task Health_of_a_server_that_is_not_there_fails_with_unavailable()
    {
        var run = await CliRun.RunAsync("health", "--server", $"http://127.0.0.1:{LiveServer.FreePort()}", "--retries", "1");

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.Contain("UNAVAILABLE"));
    }
}
