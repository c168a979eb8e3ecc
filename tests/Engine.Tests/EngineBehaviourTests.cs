using Dermxai.Engine;
using Dermxai.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Dermxai.Tests;

/// <summary>Model refusal, batching, overlays and input refusals of the engine, without any socket.</summary>
public sealed class EngineBehaviourTests
{
    private static string TempFile(string name) =>
        Path.Combine(TestContext.CurrentContext.WorkDirectory, $"{TestContext.CurrentContext.Test.ID}-{name}");

    private static byte[] GoldenPng(string set, int image) =>
        File.ReadAllBytes(Path.Combine(RepositoryPaths.Golden, set, "images", $"img{image}.png"));

    [Test]
    public void LoadsTheContractMetadata()
    {
        var model = TestEngines.Get("small_f32").Model;
        var labels = File.ReadAllLines(Path.Combine(RepositoryPaths.Golden, "small", "labels.txt")).Where(l => l.Length > 0);
        Assert.Multiple(() =>
        {
            Assert.That(model.Labels, Is.EqualTo(labels));
            Assert.That((model.ImageSize, model.PatchSize, model.NumLayers, model.NumHeads, model.GridSize), Is.EqualTo((112, 16, 4, 4, 7)));
            Assert.That(model.Mean, Is.EqualTo(new[] { 0.5, 0.5, 0.5 }));
            Assert.That(model.CropPct, Is.EqualTo(1.0));
            Assert.That(model.CheckpointSha256, Is.EqualTo("e13ae55391479905ddfa168a7ccac5fc091193e68aad691752166ebdfca26b9a"));
            Assert.That(model.ModelSha256, Has.Length.EqualTo(64));
        });
    }

    [TestCase(null, "no 'dermxai.contract'")]
    [TestCase("2", "contract '2'")]
    public void RefusesModelsOfAnotherContract(string? contract, string expected)
    {
        var metadata = new Dictionary<string, string>();
        if (contract is not null) metadata["dermxai.contract"] = contract;
        string path = TempFile("identity.onnx");
        File.WriteAllBytes(path, TinyOnnx.IdentityModel(metadata));
        var e = Assert.Throws<InvalidDataException>(() => DermxaiEngine.Load(new EngineOptions { ModelPath = path, Device = EngineDevice.Cpu }));
        Assert.That(e!.Message, Does.Contain(expected));
    }

    [Test]
    public void RefusesAFileThatIsNotOnnx()
    {
        string path = TempFile("garbage.onnx");
        File.WriteAllBytes(path, "this is not a model"u8.ToArray());
        Assert.Throws<InvalidDataException>(() => DermxaiEngine.Load(new EngineOptions { ModelPath = path, Device = EngineDevice.Cpu }));
    }

    [Test]
    public void RefusesAForwardOnlyGraphAsTheMainModel()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            DermxaiEngine.Load(new EngineOptions { ModelPath = TestPaths.Model("small_f32.forward"), Device = EngineDevice.Cpu }));
        Assert.That(e!.Message, Does.Contain("forward-only"));
    }

    [Test]
    public void AMissingModelFileIsNamed()
    {
        var e = Assert.Throws<FileNotFoundException>(() => DermxaiEngine.Load(new EngineOptions { ModelPath = "/nonexistent/model.onnx" }));
        Assert.That(e!.Message, Does.Contain("/nonexistent/model.onnx"));
    }

    [Test]
    public async Task ConcurrentRequestsAreBatchedAndEachGetsItsOwnResult()
    {
        var engine = TestEngines.Get("small_f32");
        var images = Enumerable.Range(0, 4).Select(i => GoldenPng("small", i)).ToArray();
        var alone = new List<float[]>();
        foreach (var png in images)
            alone.Add((await engine.ExplainAsync(ImageSource.FromEncoded(png), new ExplainOptions())).Explanations[0].Grid);

        int batchesBefore = engine.BatchesRun;
        var together = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            engine.ExplainAsync(ImageSource.FromEncoded(images[i % 4]), new ExplainOptions())));
        for (int i = 0; i < together.Length; i++)
            Assert.That(together[i].Explanations[0].Grid, Is.EqualTo(alone[i % 4]).Within(1e-5f), $"request {i}");
        Assert.That(engine.LargestBatch, Is.GreaterThan(1), "concurrent rows shared a batch");
        Assert.That(engine.BatchesRun - batchesBefore, Is.LessThan(16));
    }

    [Test]
    public async Task SeveralTargetsAndMethodsComeBackInRequestOrder()
    {
        var engine = TestEngines.Get("small_f32");
        var result = await engine.ExplainAsync(ImageSource.FromEncoded(GoldenPng("small", 0)), new ExplainOptions
        {
            Methods = ["generic_attention", "raw_attention"],
            Targets = [TargetRequest.TopK(2), TargetRequest.ClassIndex(3), TargetRequest.Predicted],
        });
        var top = result.Predictions.Take(2).Select(p => p.Index).ToArray();
        var expectedTargets = top.Concat(top.Contains(3) ? [] : new[] { 3 }).ToArray();
        Assert.That(result.Explanations.Select(e => e.Method), Is.EqualTo(
            Enumerable.Repeat("generic_attention", expectedTargets.Length).Concat(Enumerable.Repeat("raw_attention", expectedTargets.Length))));
        Assert.That(result.Explanations.Select(e => e.Target.Index), Is.EqualTo(expectedTargets.Concat(expectedTargets)));
        var raw = result.Explanations.Where(e => e.Method == "raw_attention").ToArray();
        Assert.That(raw.All(e => !e.ClassSpecific && e.Grid.SequenceEqual(raw[0].Grid)), "class-agnostic maps are shared");
        Assert.That(result.Predictions.Sum(p => p.Probability), Is.LessThanOrEqualTo(1.0001f));
    }

    [Test]
    public async Task OverlayAndHeatmapHaveThePhotosSizeAndDimTheUnseenBorder()
    {
        var engine = TestEngines.Get("small_f32");
        // A 200x120 grey photo: resized to 186x112, the model sees the center 112x112 only.
        var rgb = Enumerable.Repeat((byte)200, 200 * 120 * 3).ToArray();
        var result = await engine.ExplainAsync(ImageSource.FromRgb24(rgb, 200, 120),
            new ExplainOptions { HeatmapPng = true, OverlayPng = true, FaithfulnessFraction = 0.25f });
        var explanation = result.Explanations[0];
        using var overlay = Image.Load<Rgb24>(explanation.OverlayPng!);
        using var heatmap = Image.Load<Rgb24>(explanation.HeatmapPng!);
        Assert.That((overlay.Width, overlay.Height, heatmap.Width, heatmap.Height), Is.EqualTo((200, 120, 200, 120)));
        Assert.That((result.ImageWidth, result.ImageHeight), Is.EqualTo((200, 120)));
        Assert.That(overlay[0, 60], Is.EqualTo(new Rgb24(100, 100, 100)), "outside the crop: the photo at half brightness");
        Assert.That(overlay[100, 60], Is.Not.EqualTo(new Rgb24(100, 100, 100)), "inside the crop: blended heat map");
        Assert.That(explanation.Faithfulness, Is.Not.Null);
        Assert.That(explanation.Faithfulness!.Fraction, Is.EqualTo(0.25f));
    }

    [Test]
    public async Task ATensorInputGivesTheSameMapAsItsImage()
    {
        var engine = TestEngines.Get("small_f32");
        var tensor = GoldenSet.Load("small").PixelValues(0).Select(v => (float)v).ToArray();
        var fromTensor = await engine.ExplainAsync(ImageSource.FromTensor(tensor, [3, 112, 112]), new ExplainOptions());
        var fromPng = await engine.ExplainAsync(ImageSource.FromEncoded(GoldenPng("small", 0)), new ExplainOptions());
        // float32 LRP maps react to the last bit of the pixel values (ToTensor's float32 division vs a cast).
        float scale = fromPng.Explanations[0].Grid.Max(Math.Abs);
        Assert.That(fromTensor.Explanations[0].Grid, Is.EqualTo(fromPng.Explanations[0].Grid).Within(1e-3f * scale));
        Assert.That((fromTensor.ImageWidth, fromTensor.ImageHeight), Is.EqualTo((112, 112)));
    }

    public static IEnumerable<TestCaseData> BadRequests()
    {
        var png = GoldenPng("small", 0);
        var ok = ImageSource.FromEncoded(png);
        TestCaseData Case(string name, ImageSource image, ExplainOptions options, EngineErrorKind kind) =>
            new TestCaseData(image, options, kind).SetName(name);
        yield return Case("Empty image", ImageSource.FromEncoded(Array.Empty<byte>()), new(), EngineErrorKind.InvalidArgument);
        yield return Case("Truncated PNG", ImageSource.FromEncoded(png.AsMemory(0, 60)), new(), EngineErrorKind.InvalidArgument);
        yield return Case("TIFF", ImageSource.FromEncoded("II*\0\u0008\0\0\0"u8.ToArray()), new(), EngineErrorKind.InvalidArgument);
        yield return Case("Unknown method", ok, new() { Methods = ["gradcam++"] }, EngineErrorKind.InvalidArgument);
        yield return Case("Class index too large", ok, new() { Targets = [TargetRequest.ClassIndex(7)] }, EngineErrorKind.InvalidArgument);
        yield return Case("Unknown label", ok, new() { Targets = [TargetRequest.ClassLabel("no such class")] }, EngineErrorKind.InvalidArgument);
        yield return Case("Start layer out of range", ok, new() { StartLayer = 4 }, EngineErrorKind.InvalidArgument);
        yield return Case("Wrong tensor shape", ImageSource.FromTensor(new float[3 * 224 * 224], [3, 224, 224]), new(), EngineErrorKind.InvalidArgument);
        yield return Case("Non-finite tensor", ImageSource.FromTensor(Enumerable.Repeat(float.NaN, 3 * 112 * 112).ToArray(), [3, 112, 112]), new(), EngineErrorKind.InvalidArgument);
    }

    [TestCaseSource(nameof(BadRequests))]
    public void BadInputIsRefusedWithOneSentence(ImageSource image, ExplainOptions options, EngineErrorKind kind)
    {
        var engine = TestEngines.Get("small_f32");
        var e = Assert.ThrowsAsync<EngineException>(() => engine.ExplainAsync(image, options));
        Assert.That(e!.Kind, Is.EqualTo(kind));
        Assert.That(e.Message, Does.EndWith("."));
        Assert.That(e.Reason, Does.Match("^[A-Z_]+$"), "a machine-readable reason");
        Assert.That(e.Field, Is.Not.Empty, "the request field at fault");
        TestContext.Out.WriteLine($"{TestContext.CurrentContext.Test.Name}: {e.Kind} {e.Reason} {e.Field}: {e.Message}");
    }

    [TestCase(8, 1, "methods has 8 entries; at most 7 (the number of methods) are allowed.")]
    [TestCase(1, 10_000, "targets has 10000 entries; at most 7 (the model's classes) are allowed.")]
    public void ListsLongerThanTheModelCanUseAreRefusedBeforeAnyEntryIsRead(int methods, int targets, string expected)
    {
        var engine = TestEngines.Get("small_f32");
        var options = new ExplainOptions
        {
            Methods = Enumerable.Repeat("no such method", methods).ToArray(),
            Targets = Enumerable.Repeat(TargetRequest.ClassIndex(-1), targets).ToArray(),
        };
        var e = Assert.ThrowsAsync<EngineException>(() => engine.ExplainAsync(ImageSource.FromEncoded(new byte[1]), options));
        Assert.That((e!.Kind, e.Message), Is.EqualTo((EngineErrorKind.InvalidArgument, expected)));
    }

    [Test]
    public void AFullQueueRefusesAtOnce()
    {
        var batcher = new DynamicBatcher<int, int>((rows, _) => { Thread.Sleep(200); return rows.ToArray(); }, 1, TimeSpan.Zero, 2);
        var first = batcher.RunAsync([1], CancellationToken.None);
        Thread.Sleep(50);                                  // the worker holds row 1; rows 2 and 3 wait
        var waiting = batcher.RunAsync([2, 3], CancellationToken.None);
        var e = Assert.ThrowsAsync<EngineException>(() => batcher.RunAsync([4], CancellationToken.None));
        Assert.That(e!.Kind, Is.EqualTo(EngineErrorKind.QueueFull));
        Assert.That(e.Reason, Is.EqualTo(ErrorReasons.QueueFull));
        Assert.That(Task.WhenAll(first, waiting).Wait(TimeSpan.FromSeconds(10)), Is.True);
    }

    [Test]
    public async Task ARunWhoseCallersAllGaveUpIsToldToStop()
    {
        var started = new TaskCompletionSource();
        var stopped = new TaskCompletionSource<bool>();
        await using var batcher = new DynamicBatcher<int, int>((rows, abandoned) =>
        {
            started.SetResult();
            stopped.SetResult(abandoned.WaitHandle.WaitOne(TimeSpan.FromSeconds(30)));
            return rows.ToArray();
        }, 2, TimeSpan.FromSeconds(30), 4); // the batch waits for both rows: one run serves both callers
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        var calls = new[] { batcher.RunAsync([1], first.Token), batcher.RunAsync([2], second.Token) };
        await started.Task;
        first.Cancel();
        Assert.That(stopped.Task.IsCompleted, Is.False, "one caller still waits: the run goes on");
        second.Cancel();
        Assert.That(await stopped.Task.WaitAsync(TimeSpan.FromSeconds(10)), Is.True);
        foreach (var call in calls) Assert.CatchAsync<OperationCanceledException>(() => call);
    }

    [Test]
    public async Task ACancelledCallsQueuedRowsAreDroppedWithoutARun()
    {
        var ran = new System.Collections.Concurrent.ConcurrentQueue<int>();
        var started = new TaskCompletionSource();
        using var release = new ManualResetEventSlim();
        await using var batcher = new DynamicBatcher<int, int>((rows, _) =>
        {
            foreach (int row in rows) ran.Enqueue(row);
            started.TrySetResult();
            release.Wait(TimeSpan.FromSeconds(30));
            return rows.ToArray();
        }, 1, TimeSpan.Zero, 8);
        var first = batcher.RunAsync([1], CancellationToken.None);
        await started.Task;                                 // the worker holds row 1
        using var cancel = new CancellationTokenSource();
        var dropped = batcher.RunAsync([2, 3], cancel.Token);
        cancel.Cancel();
        release.Set();
        await first;
        Assert.CatchAsync<OperationCanceledException>(() => dropped);
        await batcher.RunAsync([4], CancellationToken.None);
        Assert.That(ran, Is.EqualTo(new[] { 1, 4 }), "rows 2 and 3 never reached a run");
    }

    [Test]
    public async Task AnImageWithItsTargetRowsIsNeverSplitAcrossBatches()
    {
        var batches = new System.Collections.Concurrent.ConcurrentQueue<int[]>();
        var started = new TaskCompletionSource();
        using var release = new ManualResetEventSlim();
        await using var batcher = new DynamicBatcher<int[], int>((items, _) =>
        {
            started.TrySetResult();
            release.Wait(TimeSpan.FromSeconds(30));
            batches.Enqueue(items.Select(i => i.Length).ToArray());
            return items.Select(i => i.Length).ToArray();
        }, 4, TimeSpan.Zero, 16, weight: item => item.Length);
        var first = batcher.RunAsync([[0]], CancellationToken.None);
        await started.Task;
        var rest = new[] { batcher.RunAsync([[1, 1, 1]], CancellationToken.None), batcher.RunAsync([[2, 2]], CancellationToken.None),
            batcher.RunAsync([[3]], CancellationToken.None) };
        release.Set();
        await Task.WhenAll(rest.Append(first));
        Assert.That(batches, Is.EqualTo(new[] { new[] { 1 }, new[] { 3 }, new[] { 2, 1 } }), "rows of a batch: at most 4, items whole");
    }
}
