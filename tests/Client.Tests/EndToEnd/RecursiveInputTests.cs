using System.Text.Json;

namespace Dermxai.Client.Tests.EndToEnd;

/// <summary>Folders whose images lie in subfolders (like samples/): a useful refusal, --recursive and dir/**.</summary>
[TestFixture]
public sealed class RecursiveInputTests
{
    private TempFolder _temp = null!;
    private string _tree = null!;

    /// <summary>tree/ holds only subfolders: images/ (two golden photos, one of them in deeper/) and masks/ (one).</summary>
    [OneTimeSetUp]
    public void MakeTree()
    {
        _temp = new TempFolder();
        _tree = _temp.File("tree");
        var images = TestPaths.GoldenImages;
        Place(images[0], "images");
        Place(images[1], "images/deeper");
        Place(images[2], "masks");
    }

    private void Place(string image, string folder)
    {
        var target = Directory.CreateDirectory(Path.Combine(_tree, folder)).FullName;
        File.Copy(image, Path.Combine(target, Path.GetFileName(image)));
    }

    [OneTimeTearDown]
    public void Clean() => _temp.Dispose();

    [TestCase("explain")]
    [TestCase("classify")]
    public async Task A_folder_with_only_subfolders_is_described_with_how_to_recurse(string command)
    {
        var run = await CliRun.RunAsync(command, _tree, "--server", LiveServer.Url);

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.ErrorLines, Does.Contain(
            $"FAILED {_tree}: the folder holds no JPEG or PNG images; it has 2 subfolders (images, masks): use --recursive or {_tree}/**"));
        Assert.That(run.Error, Does.Not.Contain("no such file"));
    }

    [Test]
    public async Task Classify_recursive_reaches_the_images_of_every_subfolder()
    {
        var json = _temp.File("classify.json");
        var run = await CliRun.RunAsync("classify", _tree, "--recursive", "--server", LiveServer.Url, "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(0));
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        Assert.That(report.RootElement.GetProperty("succeeded").GetInt32(), Is.EqualTo(3));
    }

    [Test]
    public async Task Explain_of_dir_double_star_explains_the_images_of_every_subfolder()
    {
        var output = _temp.File("out");
        var run = await CliRun.RunAsync("explain", Path.Combine(_tree, "**"), "--server", LiveServer.Url, "--out", output);

        Assert.That(run.ExitCode, Is.EqualTo(0));
        foreach (var image in TestPaths.GoldenImages.Take(3))
            Assert.That(File.Exists(Path.Combine(output, Path.GetFileNameWithoutExtension(image) + ".overlay.png")), Is.True, image);
    }
}
