using System.Text.Json;

namespace Dermxai.Client.Tests.EndToEnd;

[TestFixture]
public sealed class ExplainCommandTests
{
    private TempFolder _temp = null!;
    private string _broken = null!;
    private string _outFolder = null!;
    private CliRun _run = null!;
    private JsonElement _report;

    /// <summary>One explain run over a folder of 4 golden images and 1 broken file; the tests read its results.</summary>
    [OneTimeSetUp]
    public async Task ExplainFolderAsync()
    {
        _temp = new TempFolder();
        var input = GoldenSmall.FolderWithOneBrokenFile(_temp, out _broken);
        _outFolder = _temp.File("out");
        _run = await CliRun.RunAsync("explain", input, "--server", LiveServer.Url, "--out", _outFolder,
            "--outputs", "overlay,heatmap,grid", "--json", _temp.File("results.json"));
        _report = JsonDocument.Parse(File.ReadAllText(_temp.File("results.json"))).RootElement.Clone();
    }

    [OneTimeTearDown]
    public void Clean() => _temp.Dispose();

    [Test]
    public void A_broken_file_fails_alone_with_one_line_naming_it_and_a_nonzero_exit_code()
    {
        Assert.That(_run.ExitCode, Is.Not.EqualTo(0));
        var failures = _run.ErrorLines.Where(l => l.StartsWith("FAILED")).ToList();
        Assert.That(failures, Has.Count.EqualTo(1));
        Assert.That(failures[0], Does.Contain(_broken).And.Contain("INVALID_ARGUMENT"));
    }

    [Test]
    public void Every_good_image_gets_an_overlay_and_a_heatmap_at_its_own_size()
    {
        foreach (var image in TestPaths.GoldenImages)
        {
            var stem = Path.GetFileNameWithoutExtension(image);
            foreach (var kind in new[] { "overlay", "heatmap" })
                Assert.That(PngHeader.Size(Path.Combine(_outFolder, $"{stem}.{kind}.png")),
                    Is.EqualTo((GoldenSmall.ImageSize, GoldenSmall.ImageSize)), $"{stem}.{kind}.png");
        }
        Assert.That(File.Exists(Path.Combine(_outFolder, "broken.overlay.png")), Is.False);
    }

    [Test]
    public void The_page_shows_each_photo_with_its_overlay_and_top_3()
    {
        var html = File.ReadAllText(Path.Combine(_outFolder, "index.html"));
        var labels = GoldenSmall.Labels;
        foreach (var (image, predicted) in GoldenSmall.PredictedClassByImage())
        {
            var stem = Path.GetFileNameWithoutExtension(image);
            Assert.That(html, Does.Contain($"src=\"photos/{stem}.png\"").And.Contain($"src=\"{stem}.overlay.png\""));
            Assert.That(File.Exists(Path.Combine(_outFolder, "photos", image)), Is.True);
            Assert.That(html, Does.Contain($"<b>{labels[predicted]}</b>"));
        }
        Assert.That(html, Does.Contain("broken.png").And.Contain("failed"));
        Assert.That(html, Does.Not.Contain("src=\"/").And.Not.Contain("file:"), "image paths must be relative");
        Assert.That(html.Split("<ol>").Skip(1).Select(row => row.Split("</ol>")[0].Split("<li>").Length - 1), Is.All.EqualTo(3));
    }

    [Test]
    public void The_json_has_the_report_fields_and_counts()
    {
        Assert.That(_report.GetProperty("server").GetString(), Is.Not.Empty);
        Assert.That(_report.GetProperty("model_sha256").GetString(), Does.Match("^[0-9a-f]{64}$"));
        Assert.That(_report.GetProperty("succeeded").GetInt32(), Is.EqualTo(TestPaths.GoldenImages.Count));
        Assert.That(_report.GetProperty("failed").GetInt32(), Is.EqualTo(1));
        var images = _report.GetProperty("images").EnumerateArray().ToList();
        Assert.That(images, Has.Count.EqualTo(TestPaths.GoldenImages.Count + 1));
        var broken = images.Single(i => !i.GetProperty("ok").GetBoolean());
        Assert.That(broken.GetProperty("file").GetString(), Is.EqualTo(_broken));
        Assert.That(broken.GetProperty("error").GetString(), Does.StartWith("INVALID_ARGUMENT"));
        Assert.That(broken.TryGetProperty("predictions", out _), Is.False);
    }

    [Test]
    public void The_json_predictions_are_a_valid_differential_matching_the_reference_model()
    {
        var labels = GoldenSmall.Labels;
        var expected = GoldenSmall.PredictedClassByImage();
        foreach (var image in OkImages())
        {
            var name = Path.GetFileName(image.GetProperty("file").GetString()!);
            var predictions = image.GetProperty("predictions").EnumerateArray().ToList();
            Assert.That(predictions, Has.Count.EqualTo(5), "top_k 0 means 5");
            var probabilities = predictions.Select(p => p.GetProperty("probability").GetDouble()).ToList();
            Assert.That(probabilities, Is.Ordered.Descending);
            Assert.That(probabilities, Is.All.InRange(0.0, 1.0));
            Assert.That(probabilities.Sum(), Is.LessThanOrEqualTo(1.0 + 1e-5));
            foreach (var p in predictions)
                Assert.That(p.GetProperty("label").GetString(), Is.EqualTo(labels[p.GetProperty("index").GetInt32()]));
            Assert.That(predictions[0].GetProperty("index").GetInt32(), Is.EqualTo(expected[name]), name);
            Assert.That(image.GetProperty("image_width").GetInt32(), Is.EqualTo(GoldenSmall.ImageSize));
            Assert.That(image.GetProperty("request_id").GetString(), Is.Not.Empty);
        }
    }

    [Test]
    public void The_json_has_every_grid_of_the_predicted_class_with_its_png_names()
    {
        foreach (var image in OkImages())
        {
            var explanations = image.GetProperty("explanations").EnumerateArray().ToList();
            Assert.That(explanations, Has.Count.EqualTo(1));
            var explanation = explanations[0];
            Assert.That(explanation.GetProperty("method").GetString(), Is.EqualTo("transformer_attribution"));
            Assert.That(explanation.GetProperty("class_specific").GetBoolean(), Is.True);
            Assert.That(explanation.GetProperty("target").GetProperty("index").GetInt32(),
                Is.EqualTo(image.GetProperty("predictions")[0].GetProperty("index").GetInt32()));
            var grid = explanation.GetProperty("grid");
            Assert.That(grid.GetProperty("rows").GetInt32(), Is.EqualTo(GoldenSmall.GridSide));
            Assert.That(grid.GetProperty("cols").GetInt32(), Is.EqualTo(GoldenSmall.GridSide));
            var values = grid.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList();
            Assert.That(values, Has.Count.EqualTo(GoldenSmall.GridSide * GoldenSmall.GridSide));
            Assert.That(values.All(double.IsFinite) && values.Any(v => v != 0), Is.True);
            var stem = Path.GetFileNameWithoutExtension(image.GetProperty("file").GetString());
            Assert.That(explanation.GetProperty("overlay_png").GetString(), Is.EqualTo($"{stem}.overlay.png"));
            Assert.That(explanation.GetProperty("heatmap_png").GetString(), Is.EqualTo($"{stem}.heatmap.png"));
        }
    }

    [Test]
    public async Task Several_methods_and_targets_give_one_named_overlay_each()
    {
        using var temp = new TempFolder();
        var image = TestPaths.GoldenImages[0];
        var run = await CliRun.RunAsync("explain", image, "--server", LiveServer.Url, "--out", temp.Path,
            "--method", "transformer_attribution,attention_rollout", "--target", "top-k:2", "--json", temp.File("r.json"));
        Assert.That(run.ExitCode, Is.EqualTo(0));
        using var report = JsonDocument.Parse(File.ReadAllText(temp.File("r.json")));
        var explanations = report.RootElement.GetProperty("images")[0].GetProperty("explanations").EnumerateArray().ToList();
        Assert.That(explanations.Select(e => e.GetProperty("method").GetString()),
            Is.EqualTo(new[] { "transformer_attribution", "transformer_attribution", "attention_rollout", "attention_rollout" }));
        foreach (var e in explanations)
        {
            var expectedName = $"img0.{e.GetProperty("method").GetString()}.{e.GetProperty("target").GetProperty("index").GetInt32()}.overlay.png";
            Assert.That(e.GetProperty("overlay_png").GetString(), Is.EqualTo(expectedName));
            Assert.That(File.Exists(Path.Combine(temp.Path, expectedName)), Is.True, expectedName);
        }
    }

    [Test]
    public async Task An_unknown_method_fails_the_file_with_the_servers_sentence()
    {
        var run = await CliRun.RunAsync("explain", TestPaths.GoldenImages[0], "--server", LiveServer.Url, "--method", "no_such_method");
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.ErrorLines.Single(l => l.StartsWith("FAILED")), Does.Contain("INVALID_ARGUMENT").And.Contain("no_such_method"));
    }

    [Test]
    public async Task A_deadline_that_passes_fails_the_file_with_deadline_exceeded()
    {
        // 2 ms for seven maps with PNGs: far less than the work takes, and above the millisecond
        // granularity of the deadline timers (a 0.1 ms deadline was sometimes not enforced at all).
        using var folder = new TempFolder();
        var run = await CliRun.RunAsync("explain", TestPaths.GoldenImages[0], "--server", LiveServer.Url, "--deadline", "0.002", "--out", folder.Path,
            "--method", "transformer_attribution,generic_attention,attention_rollout,lrp_rollout,raw_attention,partial_lrp",
            "--outputs", "overlay,heatmap,grid", "--target", "top-k:3");
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.ErrorLines.Single(l => l.StartsWith("FAILED")), Does.Contain("DEADLINE_EXCEEDED"));
    }

    private IEnumerable<JsonElement> OkImages() =>
        _report.GetProperty("images").EnumerateArray().Where(i => i.GetProperty("ok").GetBoolean());
}
