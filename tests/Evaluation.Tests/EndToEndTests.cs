using Dermxai.Attribution;
using Dermxai.Engine;
using Dermxai.Evaluation.Cli;
using Dermxai.TestSupport;

namespace Dermxai.Evaluation.Tests;

/// <summary>
/// The evaluation on generated images with the golden `small` model (7 classes, 112×112), checked
/// against the engine's public Explain/Classify path and against invariants; then the CLI command.
/// </summary>
[NonParallelizable]
public sealed class EndToEndTests
{
    private const int Images = 6;
    private DermxaiEngine _engine = null!;
    private string _folder = "";
    private string _data = "";

    [OneTimeSetUp]
    public async Task GenerateImages()
    {
        _engine = SyntheticFolder.LoadSmallEngine();
        _folder = TempFolder.Create();
        _data = Path.Combine(_folder, "data");
        await SyntheticFolder.WriteAsync(_data, _engine, Images);
    }

    [OneTimeTearDown]
    public async Task CleanUp()
    {
        await _engine.DisposeAsync();
        TempFolder.Delete(_folder);
    }

    [Test]
    public async Task BatchedPerturbationAgreesWithOneImageAtATimeThroughThePublicEngine()
    {
        var items = EvaluationDataset.Load(_data, _engine.Model.Labels).Items.Take(3).ToArray();
        var methods = new[] { RelevanceMethod.TransformerAttribution, RelevanceMethod.AttentionGradCam };
        var run = new EvaluationRun(_engine, methods, new EvaluationSettings { DataPath = _data, ForwardBatchSize = 16 });

        var evaluated = run.EvaluateBatch(items, CancellationToken.None);

        int s = _engine.Model.ImageSize, g = _engine.Model.GridSize;
        foreach (var image in evaluated)
        {
            var bytes = await File.ReadAllBytesAsync(image.Item.ImagePath);
            var prepared = _engine.Prepare(bytes);
            foreach (var method in methods)
            {
                var explained = await _engine.ExplainAsync(ImageSource.FromEncoded(bytes), new ExplainOptions { Methods = [method.Id()], StartLayer = 1 });
                Assert.That(image.Predicted, Is.EqualTo(explained.Explanations[0].Target.Index));
                var upsampled = new float[s * s];
                MapRendering.UpsampleBilinear(explained.Explanations[0].Grid, g, g, upsampled, s, s);
                foreach (var outcome in image.Methods[method].Perturbation.Where(o => o.Explained == ExplainedClass.Predicted))
                {
                    for (int step = 1; step < PerturbationTest.Steps; step++)
                    {
                        bool expected = await CorrectAfterRemovalAsync(prepared, upsampled, outcome.Mode, step, image.Item.Label);
                        Assert.That(outcome.Correct[step], Is.EqualTo(expected), $"{image.Item.Name} {method.Id()} {outcome.Mode} step {step}");
                    }
                }
            }
        }
    }

    [Test]
    public async Task ExplainClassScoresThatClassesMapAndKeepsThePrediction()
    {
        var items = EvaluationDataset.Load(_data, _engine.Model.Labels).Items.Take(2).ToArray();
        var run = new EvaluationRun(_engine, [RelevanceMethod.TransformerAttribution],
            new EvaluationSettings { DataPath = _data, ExplainClass = "class_03", TargetClass = false });

        var evaluated = run.EvaluateBatch(items, CancellationToken.None);

        int s = _engine.Model.ImageSize, g = _engine.Model.GridSize;
        foreach (var image in evaluated)
        {
            Assert.That(image.Predicted, Is.EqualTo(image.Item.Label), "labels are the model's own predictions");
            var scores = image.Methods[RelevanceMethod.TransformerAttribution];
            Assert.That(scores.Perturbation.All(o => o.Correct[0]), Is.True);
            var bytes = await File.ReadAllBytesAsync(image.Item.ImagePath);
            var explained = await _engine.ExplainAsync(ImageSource.FromEncoded(bytes),
                new ExplainOptions { Targets = [TargetRequest.ClassIndex(3)], StartLayer = 1 });
            var upsampled = new float[s * s];
            MapRendering.UpsampleBilinear(explained.Explanations[0].Grid, g, g, upsampled, s, s);
            var photo = _engine.Prepare(bytes);
            var lesion = CroppedMasks.Crop(CroppedMasks.ReadMask(image.Item.LesionMaskPath!), photo.PhotoWidth, photo.PhotoHeight, photo.Crop, s);
            Assert.That(scores.Localisation!.LesionMass, Is.EqualTo(LocalisationMetrics.Mass(upsampled, lesion)).Within(1e-6));
        }
    }

    /// <summary>The test's own removal: LINQ ranking, whole-tensor copy, the engine's public Classify.</summary>
    private async Task<bool> CorrectAfterRemovalAsync(PreparedPhoto prepared, float[] map, PerturbationMode mode, int step, int label)
    {
        int plane = map.Length;
        int k = (int)(plane * (step / 10.0));
        var ranked = Enumerable.Range(0, plane)
            .OrderBy(i => mode == PerturbationMode.Positive ? -map[i] : map[i]).ThenBy(i => i).Take(k);
        var tensor = (float[])((float[])prepared.Pixels).Clone();
        foreach (int pixel in ranked)
            for (int c = 0; c < 3; c++)
                tensor[c * plane + pixel] = (float)((0 - _engine.Model.Mean[c]) / _engine.Model.Std[c]);
        int side = _engine.Model.ImageSize;
        var result = await _engine.ClassifyAsync(ImageSource.FromTensor(tensor, [3, side, side]), 1);
        return result.Predictions[0].Index == label;
    }

    [Test]
    public async Task ReportHoldsEveryMethodGroupAndConsistentNumbers()
    {
        var report = await MapEvaluator.RunAsync(_engine, new EvaluationSettings { DataPath = _data, BatchSize = 4 });
        TestContext.Out.WriteLine(ReportWriter.Markdown(report));

        Assert.That(report.Methods, Is.EquivalentTo(RelevanceMethods.All.Select(m => m.Id())));
        Assert.That(report.All.Images, Is.EqualTo(Images));
        Assert.That(report.All.CleanAccuracy, Is.EqualTo(1.0), "labels are the model's own predictions");
        Assert.That(report.Groups.Select(g => $"{g.Dimension}={g.Value}"),
            Is.EquivalentTo(new[] { "all=all", "skin_tone=1", "skin_tone=2", "background=paper", "background=wall" }));
        foreach (var method in report.All.Methods)
        {
            Assert.That(method.Curves.Select(c => $"{c.Mode}/{c.ExplainedClass}"),
                Is.EquivalentTo(new[] { "positive/predicted", "positive/target", "negative/predicted", "negative/target" }));
            foreach (var curve in method.Curves)
            {
                Assert.That(curve.Accuracy[0], Is.EqualTo(report.All.CleanAccuracy));
                Assert.That(curve.Auc, Is.InRange(0.0, 90.0));
            }
            var l = method.Localisation!;
            Assert.That(l.ImagesWithLesion, Is.EqualTo(Images));
            Assert.That(l.ImagesWithArtifacts, Is.EqualTo(Images / 2));
            Assert.That(new[] { l.PixelAccuracy, l.MeanIoU, l.MeanAveragePrecision, l.PointingGame, l.LesionMass, l.ArtifactMass },
                Has.All.InRange(0.0, 1.0));
            Assert.That(l.ArtifactMassByKind["sticker"].Mass, Is.EqualTo(l.ArtifactMass!.Value).Within(1e-9), "the only artifact is the sticker");
        }
        foreach (var image in report.PerImage)
        foreach (var (method, scores) in image.Methods)
        {
            double total = scores.LesionMass!.Value + (scores.ArtifactMass ?? 0);
            Assert.That(total, Is.LessThanOrEqualTo(1 + 1e-9), $"{image.Name} {method}");
        }
    }

    [Test]
    public async Task ExplainFaithfulnessMatchesRemovingPatchesByHand()
    {
        var bytes = await File.ReadAllBytesAsync(Directory.GetFiles(Path.Combine(_data, "images")).Order().First());
        var result = await _engine.ExplainAsync(ImageSource.FromEncoded(bytes),
            new ExplainOptions { Methods = ["transformer_attribution"], StartLayer = 1, FaithfulnessFraction = 0.25f });
        var explanation = result.Explanations[0];
        var faithfulness = explanation.Faithfulness!;
        var prepared = _engine.Prepare(bytes);

        var grid = explanation.Grid;
        int patches = (int)Math.Round(0.25 * grid.Length);
        var most = Enumerable.Range(0, grid.Length).OrderByDescending(i => grid[i]).ThenBy(i => i).Take(patches).ToHashSet();
        var least = Enumerable.Range(0, grid.Length).OrderBy(i => grid[i]).ThenBy(i => i).Take(patches).ToHashSet();

        Assert.That(faithfulness.Fraction, Is.EqualTo(0.25f));
        Assert.That(faithfulness.Probability, Is.EqualTo(explanation.Target.Probability));
        Assert.That(faithfulness.ProbabilityWithoutMostRelevant,
            Is.EqualTo(await ProbabilityWithoutPatchesAsync(prepared, most, explanation.Target.Index)).Within(1e-5));
        Assert.That(faithfulness.ProbabilityWithoutLeastRelevant,
            Is.EqualTo(await ProbabilityWithoutPatchesAsync(prepared, least, explanation.Target.Index)).Within(1e-5));
    }

    private async Task<float> ProbabilityWithoutPatchesAsync(PreparedPhoto prepared, HashSet<int> patches, int target)
    {
        var model = _engine.Model;
        int s = model.ImageSize, p = model.PatchSize, g = model.GridSize;
        var tensor = (float[])((float[])prepared.Pixels).Clone();
        for (int c = 0; c < 3; c++)
        for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++)
            if (patches.Contains(y / p * g + x / p))
                tensor[(c * s + y) * s + x] = (float)((0 - model.Mean[c]) / model.Std[c]);
        var all = await _engine.ClassifyAsync(ImageSource.FromTensor(tensor, [3, s, s]), model.NumClasses);
        return all.Predictions.Single(score => score.Index == target).Probability;
    }

    [Test]
    public async Task CommandWritesTablesJsonAndPlots()
    {
        string output = Path.Combine(_folder, "cli-out");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int exit = await EvaluateCli.RunAsync(
            [_data, "--model", SyntheticFolder.ModelPath(SyntheticFolder.SmallModel), "--out", output, "--limit", "4",
             "--method", "transformer_attribution,attention_rollout", "--device", "cpu"],
            new EvaluateConsoles(PlainConsole.Over(stdout), PlainConsole.Over(stderr)), CancellationToken.None);

        TestContext.Out.WriteLine(stdout.ToString());
        TestContext.Out.WriteLine(stderr.ToString());
        Assert.That(exit, Is.EqualTo(0));
        var report = ReportWriter.ReadJson(Path.Combine(output, ReportWriter.JsonFile));
        Assert.That(report.All.Images, Is.EqualTo(4));
        Assert.That(report.Methods, Is.EqualTo(new[] { "transformer_attribution", "attention_rollout" }));
        Assert.That(File.ReadAllLines(Path.Combine(output, ReportWriter.PerImageFile)), Has.Length.EqualTo(4));
        string markdown = await File.ReadAllTextAsync(Path.Combine(output, ReportWriter.MarkdownFile));
        Assert.That(markdown, Does.Contain("| negative / predicted |").And.Contain("Chefer et al. CVPR'21"));
        foreach (string plot in new[] { "perturbation_positive.png", "perturbation_negative.png", "lesion_mass_by_skin_tone.png", "miou_by_background.png" })
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(output, plot));
            Assert.That(bytes.Take(4), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }), plot);
        }
        Assert.That(stdout.ToString(), Does.Contain("transformer_attribution").And.Contain("Wrote"));
    }

    [Test]
    public async Task CommandRefusesAnUnknownMethod()
    {
        var stderr = new StringWriter();
        int exit = await EvaluateCli.RunAsync(
            [_data, "--model", SyntheticFolder.ModelPath(SyntheticFolder.SmallModel), "--out", Path.Combine(_folder, "x"), "--method", "nope", "--device", "cpu"],
            new EvaluateConsoles(PlainConsole.Over(new StringWriter()), PlainConsole.Over(stderr)), CancellationToken.None);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stderr.ToString(), Does.Contain("Unknown method 'nope'"));
    }

    [Test]
    public async Task CommandRefusesAnUnknownDeviceAndNamesTheChoices()
    {
        var stderr = new StringWriter();
        int exit = await EvaluateCli.RunAsync(
            [_data, "--model", SyntheticFolder.ModelPath(SyntheticFolder.SmallModel), "--out", Path.Combine(_folder, "y"), "--device", "tpu"],
            new EvaluateConsoles(PlainConsole.Over(new StringWriter()), PlainConsole.Over(stderr)), CancellationToken.None);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stderr.ToString(), Does.Contain("'tpu'").And.Contain("gpu"));
    }
}
