using System.Globalization;
using Deque.AxeCore.Playwright;
using Dermxai.TestSupport;
using Google.Protobuf;
using Microsoft.Playwright;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Viewer.Tests;

/// <summary>
/// The viewer in a real browser (Debian's chromium, headless, driven by Playwright): upload a sample photo,
/// wait for the overlay, switch class and method, and compare what the page shows — the differential and
/// the relevance grid it exposes in the DOM — with the gRPC answer to the same request, and run axe-core
/// over the page (no accessibility violation). Screenshots go to
/// the test's work directory, screenshots/.
/// </summary>
[NonParallelizable]
public sealed class ViewerBrowserTests
{
    internal const string Chromium = "/usr/bin/chromium";
    private const float FaithfulnessFraction = 0.1f; // as viewer.js asks
    private static string Sample => Path.Combine(RepositoryPaths.Root, "samples", "images", "sample_000003.jpg");
    private static string Screenshots => Path.Combine(TestContext.CurrentContext.WorkDirectory, "screenshots");

    private ViewerServer _server = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        if (!File.Exists(Chromium))
            Assert.Fail($"Debian's chromium is missing ({Chromium}); install it with `apt-get install chromium` (./test.sh does so when run as root).");
        _server = await ViewerServer.StartAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true });
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
    }

    /// <summary>The gRPC request equal to the one the page sends for this class.</summary>
    private async Task<Proto.ExplainResponse> GrpcExplainAsync(Proto.ModelInfo model, int classIndex) =>
        await _server.Client.ExplainAsync(new Proto.ExplainRequest
        {
            Image = new Proto.ImageInput { Encoded = ByteString.CopyFrom(await File.ReadAllBytesAsync(Sample)) },
            Methods = { model.Methods.Select(m => m.Id) },
            Targets = { new Proto.TargetSpec { ClassIndex = classIndex } },
            TopK = 5,
            FaithfulnessFraction = FaithfulnessFraction,
        });

    private static async Task<float[]> DisplayedGridAsync(IPage page)
    {
        string values = (await page.GetAttributeAsync("#grid", "data-values"))!;
        return values.Split(' ').Select(v => (float)double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    }

    private static Task WaitForGridAsync(IPage page, string method, int classIndex) =>
        page.WaitForSelectorAsync($"#grid[data-method='{method}'][data-class-index='{classIndex}']", new() { State = WaitForSelectorState.Attached });

    [Test]
    public async Task Shows_the_differential_overlays_and_grid_the_grpc_api_answers()
    {
        var model = (await _server.Client.GetModelInfoAsync(new Proto.GetModelInfoRequest())).Model;
        var page = await _browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 1000 } });
        var consoleErrors = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") consoleErrors.Add(message.Text); };
        await page.GotoAsync(_server.ViewerUrl + "/");
        await page.WaitForSelectorAsync("#status:has-text('Ready')");
        Assert.That(await page.InnerTextAsync("#model-warning"), Does.Contain("NEVER FOR DIAGNOSIS").And.Contain("not a medical device"));

        await page.SetInputFilesAsync("#photo-input", Sample);
        string defaultMethod = model.Methods.Single(m => m.IsDefault).Id;
        var predicted = await GrpcExplainAsync(model, 0);
        int top = predicted.Predictions[0].Index;
        await WaitForGridAsync(page, defaultMethod, top);
        await page.WaitForFunctionAsync("document.getElementById('heatmap').naturalWidth > 0");

        var rows = page.Locator("#differential tbody tr");
        Assert.That(await rows.CountAsync(), Is.EqualTo(Math.Min(5, model.Labels.Count)));
        for (int i = 0; i < await rows.CountAsync(); i++)
        {
            Assert.That(await rows.Nth(i).GetAttributeAsync("data-index"), Is.EqualTo(predicted.Predictions[i].Index.ToString(CultureInfo.InvariantCulture)));
            Assert.That(await rows.Nth(i).InnerTextAsync(), Does.Contain(predicted.Predictions[i].Label));
        }
        Assert.That(await page.InnerTextAsync("#faithfulness"), Does.Contain("Faithfulness check").And.Contain("10%"));
        Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "differential-and-overlay.png"), FullPage = true });

        int other = predicted.Predictions[1].Index;
        await page.SelectOptionAsync("#class-select", other.ToString(CultureInfo.InvariantCulture));
        await WaitForGridAsync(page, defaultMethod, other);
        var expected = await GrpcExplainAsync(model, other);
        Assert.That(await DisplayedGridAsync(page), Is.EqualTo(expected.Explanations.Single(e => e.Method == defaultMethod).Grid.Values.ToArray()).Within(1e-6),
            "the displayed grid is the gRPC answer's");

        string second = model.Methods.First(m => !m.IsDefault).Id;
        await page.SelectOptionAsync("#method-select", second);
        await WaitForGridAsync(page, second, other);
        Assert.That(await DisplayedGridAsync(page), Is.EqualTo(expected.Explanations.Single(e => e.Method == second).Grid.Values.ToArray()).Within(1e-6));

        var methods = page.Locator("#methods li");
        Assert.That(await methods.CountAsync(), Is.EqualTo(model.Methods.Count));
        await page.WaitForFunctionAsync("[...document.querySelectorAll('#methods img.heat')].every(i => i.naturalWidth > 0)");
        Assert.That(await page.Locator("#methods .faithfulness").AllInnerTextsAsync(), Has.All.Contain("Faithfulness check"));
        // The viewport, scrolled to the methods: the model card's warning stays on top of them.
        await page.EvalOnSelectorAsync("#methods-section", "section => section.scrollIntoView()");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "methods-side-by-side.png") });

        await page.FocusAsync("#opacity");
        await page.Keyboard.PressAsync("ArrowLeft");
        Assert.That(await page.InnerTextAsync("#opacity-value"), Is.EqualTo("45%"), "the opacity slider answers the keyboard");
        Assert.That(await page.Locator("#model-warning").IsVisibleAsync(), "the warning stays visible");
        Assert.That(consoleErrors, Is.Empty);

        var axe = await page.RunAxe();
        Assert.That(axe.Passes, Is.Not.Empty, "axe-core ran its rules");
        Assert.That(axe.Violations.Select(v => $"{v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Select(n => n.Target?.ToString()))})"), Is.Empty,
            "axe-core finds no accessibility violation with the overlay, the grid and the methods shown");
        TestContext.Out.WriteLine($"screenshots: {Screenshots}");
    }
}
