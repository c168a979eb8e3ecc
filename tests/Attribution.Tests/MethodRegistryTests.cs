using System.Numerics;
using System.Text.RegularExpressions;
using Dermxai.TestSupport;

namespace Dermxai.Attribution.Tests;

/// <summary>The method table: one row per method, rows that hang together, and the facts docs/methods.md states.</summary>
public class MethodRegistryTests
{
    private static readonly Lazy<string> methodsDoc =
        new(() => File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "methods.md")).ReplaceLineEndings("\n"));

    private static IEnumerable<RelevanceMethod> Methods => Enum.GetValues<RelevanceMethod>();

    [Test]
    public void EveryMethodHasExactlyOneDescriptor()
    {
        Assert.That(MethodRegistry.All.Select(d => d.Method), Is.EqualTo(Methods));
        foreach (var method in Methods)
        {
            Assert.That(MethodRegistry.Of(method).Method, Is.EqualTo(method));
        }
        Assert.That(RelevanceMethods.All, Is.EqualTo(Methods));
    }

    [Test]
    public void IdsAreUniqueLowerSnakeCase()
    {
        var ids = MethodRegistry.All.Select(d => d.Id).ToArray();
        Assert.That(ids, Is.Unique);
        foreach (string id in ids)
        {
            Assert.That(id, Does.Match("^[a-z]+(_[a-z0-9]+)*$"));
        }
        Assert.That(RelevanceMethods.IdList, Is.EqualTo(string.Join(", ", ids)));
    }

    /// <summary>Only attention_gradcam has no head rule; a y operand exactly where the rule reads one.</summary>
    [TestCaseSource(nameof(Methods))]
    public void DescriptorHangsTogether(RelevanceMethod method)
    {
        var d = MethodRegistry.Of(method);
        Assert.That(d.HeadRule is null, Is.EqualTo(d.Fold == MapFold.AttentionGradCam), "head rule ⇔ not gradcam");
        Assert.That(BitOperations.PopCount((uint)d.X), Is.EqualTo(1), "x is one tensor");
        bool readsY = d.HeadRule is null or HeadRule.MeanClampedProduct;
        Assert.That(BitOperations.PopCount((uint)d.Y), Is.EqualTo(readsY ? 1 : 0), "y is one tensor where read");
        Assert.That(d.X & d.Y, Is.EqualTo(ContractTensors.None), "x and y differ");
        Assert.That(!d.UsesStartLayer || d.IsRollout, Is.True, "a start layer drops rollout blocks only");
        Assert.That(d.Summary, Is.Not.Empty);
        Assert.That(d.Reference, Is.Not.Empty);
        Assert.That(method.Description(), Is.EqualTo($"{d.Summary}, {d.Reference}."));
    }

    /// <summary>The "Head reduction" table: each method's rule and, through its Ā_l formula, its x and y tensors.</summary>
    [Test]
    public void HeadReductionTableMatchesTheDescriptors()
    {
        var rules = new Dictionary<string, HeadRule>
        {
            ["mean"] = HeadRule.Mean,
            ["clamped mean"] = HeadRule.MeanClamped,
            ["clamped product"] = HeadRule.MeanClampedProduct,
        };
        var documented = new List<string>();
        foreach (string line in Section("Head reduction").Split('\n').Where(l => l.StartsWith('|')))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries)[1..^1];
            if (!rules.TryGetValue(cells[0], out var rule))
            {
                continue;
            }
            foreach (Match entry in Regex.Matches(cells[2], @"(\w+)(?: \(([XY]) = (\w+)\))?"))
            {
                string id = entry.Groups[1].Value;
                string formula = entry.Groups[2].Success
                    ? cells[1].Replace($"{entry.Groups[2].Value}_l", $"{entry.Groups[3].Value}_l")
                    : cells[1];
                var operands = Regex.Matches(formula, @"(∇A|A|R)_l").Select(m => Tensor(m.Groups[1].Value)).ToArray();
                Assert.That(RelevanceMethods.TryParse(id, out var method), Is.True, id);
                var d = MethodRegistry.Of(method);
                Assert.That(d.HeadRule, Is.EqualTo(rule), id);
                Assert.That(d.X, Is.EqualTo(operands[0]), $"{id}: x of {formula}");
                Assert.That(d.Y, Is.EqualTo(operands.Length > 1 ? operands[1] : ContractTensors.None), $"{id}: y of {formula}");
                documented.Add(id);
            }
        }
        Assert.That(documented, Is.EquivalentTo(MethodRegistry.All.Where(d => d.HeadRule is not null).Select(d => d.Id)));
    }

    /// <summary>Each method's own section: the tensors it names, start layer, target class, fold.</summary>
    [TestCaseSource(nameof(Methods))]
    public void MethodSectionStatesTheDescriptorFacts(RelevanceMethod method)
    {
        var d = MethodRegistry.Of(method);
        string section = MethodSection(d.Id);
        var named = Regex.Matches(section, "`(attn|attn_grad|attn_rel)`")
            .Aggregate(ContractTensors.None, (all, m) => all | Tensor(m.Groups[1].Value));
        Assert.That(named, Is.EqualTo(d.Needs), "the tensors the section names");
        Assert.That(section.Contains("honours the start layer"), Is.EqualTo(d.UsesStartLayer), "start layer");
        Assert.That(section.Contains("ignores the target class"), Is.EqualTo(!d.ClassSpecific), "target class");
        Assert.That(section.Contains("M_l") || section.Contains("(#rollout-fold)"), Is.EqualTo(d.IsRollout), "rollout");
        Assert.That(section.Contains("rowsum("), Is.EqualTo(d.NormalizesRows), "row normalisation");
    }

    private static ContractTensors Tensor(string name) => name switch
    {
        "A" or "attn" => ContractTensors.Attention,
        "∇A" or "attn_grad" => ContractTensors.AttentionGradient,
        "R" or "attn_rel" => ContractTensors.AttentionRelevance,
        _ => throw new ArgumentException($"Unknown tensor {name}."),
    };

    private static IEnumerable<string> Sections() => methodsDoc.Value.Split("\n## ").Skip(1);

    private static string Section(string heading) => Sections().Single(s => s.StartsWith(heading + "\n"));

    /// <summary>The section that introduces the method: a paragraph starting with its id in backticks.</summary>
    private static string MethodSection(string id) => Sections().Single(s => s.Contains($"\n`{id}`"));
}
