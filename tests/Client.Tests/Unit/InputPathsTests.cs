using Dermxai.Client.Explain;
using Dermxai.Client.Inputs;

namespace Dermxai.Client.Tests.Unit;

public sealed class InputPathsTests
{
    private TempFolder _temp = null!;

    [SetUp]
    public void MakeTree()
    {
        _temp = new TempFolder();
        foreach (var file in new[] { "a.png", "b.JPG", "notes.txt", "sub/c.jpeg", "sub/deeper/d.png", "sub/a.png" })
        {
            var path = _temp.File(file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "x");
        }
    }

    [TearDown]
    public void Clean() => _temp.Dispose();

    private string P(string relative) => _temp.File(relative);

    [Test]
    public void A_folder_gives_its_own_images_only()
    {
        var expansion = InputPaths.Expand([_temp.Path]);
        Assert.That(expansion.Files, Is.EqualTo(new[] { P("a.png"), P("b.JPG") }));
        Assert.That(expansion.Missing, Is.Empty);
    }

    [Test]
    public void A_file_is_taken_as_given_even_without_an_image_extension() =>
        Assert.That(InputPaths.Expand([P("notes.txt")]).Files, Is.EqualTo(new[] { P("notes.txt") }));

    [Test]
    public void Globs_match_in_their_folder_or_below_with_double_star()
    {
        Assert.That(InputPaths.Expand([P("*.png")]).Files, Is.EqualTo(new[] { P("a.png") }));
        Assert.That(InputPaths.Expand([P("**/*.png")]).Files, Is.EquivalentTo(new[] { P("a.png"), P("sub/a.png"), P("sub/deeper/d.png") }));
    }

    [Test]
    public void Duplicates_are_dropped_and_unmatched_paths_reported()
    {
        var expansion = InputPaths.Expand([P("a.png"), _temp.Path, P("nothing/*.png"), P("missing.png")]);
        Assert.That(expansion.Files, Is.EqualTo(new[] { P("a.png"), P("b.JPG") }));
        Assert.That(expansion.Missing.Select(m => m.Path), Is.EqualTo(new[] { P("nothing/*.png"), P("missing.png") }));
        Assert.That(expansion.Missing.Select(m => m.Reason), Is.EqualTo(new[] { $"no such folder {P("nothing")}", "no such file or folder" }));
    }

    [Test]
    public void A_folder_of_subfolders_only_says_what_it_holds_and_how_to_recurse()
    {
        foreach (var name in new[] { "zeta", "alpha", "beta", "gamma" }) Directory.CreateDirectory(P($"only/{name}"));
        var unmatched = InputPaths.Expand([P("only")]).Missing.Single();
        Assert.That(unmatched.Reason, Is.EqualTo(
            $"the folder holds no JPEG or PNG images; it has 4 subfolders (alpha, beta, gamma, …): use --recursive or {P("only/**")}"));
    }

    [Test]
    public void Recursive_folders_give_the_images_of_every_folder_below()
    {
        var all = new[] { P("a.png"), P("b.JPG"), P("sub/a.png"), P("sub/c.jpeg"), P("sub/deeper/d.png") };
        Assert.That(InputPaths.Expand([_temp.Path], recursive: true).Files, Is.EqualTo(all));
        Assert.That(InputPaths.Expand([P("**")]).Files, Is.EqualTo(all), "dir/** is the folder and every folder below");
    }

    [Test]
    public void An_empty_tree_says_so_even_when_recursive()
    {
        Directory.CreateDirectory(P("empty/inner"));
        Assert.That(InputPaths.Expand([P("empty")], recursive: true).Missing.Single().Reason,
            Is.EqualTo("the folder and its subfolders hold no JPEG or PNG images"));
        Assert.That(InputPaths.Expand([P("empty/**")]).Missing.Single().Reason,
            Is.EqualTo($"{P("empty")} and its subfolders hold no JPEG or PNG images"));
    }

    [Test]
    public void Output_names_never_collide()
    {
        var names = new OutputNames([P("a.png"), P("sub/a.png"), P("b.JPG")]);
        Assert.That(new[] { names.Stem(P("a.png")), names.Stem(P("sub/a.png")), names.Stem(P("b.JPG")) }, Is.EqualTo(new[] { "a", "a-2", "b" }));
        Assert.That(names.Photo(P("b.JPG")), Is.EqualTo("photos/b.jpg"));
    }
}
