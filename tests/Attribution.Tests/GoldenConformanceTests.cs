using Dermxai.TestSupport;

namespace Dermxai.Attribution.Tests;

/// <summary>
/// Every golden map that has tensors, combined in float32 from the golden tensors, against the
/// reference's float64 map: max abs error / max abs reference ≤ 1e-6.
/// </summary>
public class GoldenConformanceTests
{
    [TestCaseSource(typeof(GoldenMaps), nameof(GoldenMaps.ConformanceCases))]
    public void MapEqualsReference(string setName, string caseName, string key)
    {
        var (method, startLayer) = GoldenMaps.ParseKey(key);
        var batch = GoldenMaps.CaseBatch(setName, caseName);
        var grid = batch.Compute(method, startLayer);
        var reference = GoldenMaps.Set(setName).Cases.Single(c => c.Name == caseName).ReferenceMap(key);

        double error = Errors.Relative(grid, reference);

        TestContext.Out.WriteLine($"{setName}/{caseName}/{key}: relative error {error:E2}");
        Assert.That(error, Is.LessThanOrEqualTo(GoldenMaps.ConformanceTolerance));
    }

    [Test]
    public void EveryMethodIsCoveredByTheGoldenMatrix()
    {
        var covered = GoldenMaps.ConformanceCases().Select(c => GoldenMaps.ParseKey((string)c.Arguments[2]!).Method).ToHashSet();
        Assert.That(covered, Is.EquivalentTo(RelevanceMethods.All));
    }

    /// <summary>Prints the conformance table (max error per set and key over the cases with tensors).</summary>
    [Test]
    public void ConformanceTable()
    {
        TestContext.Out.WriteLine($"| set | map | cases | max rel. error | tolerance |");
        TestContext.Out.WriteLine($"|---|---|---|---|---|");
        var matrix = GoldenMaps.ConformanceCases().Select(c => (Set: (string)c.Arguments[0]!, Case: (string)c.Arguments[1]!, Key: (string)c.Arguments[2]!));
        foreach (var group in matrix.GroupBy(c => (c.Set, c.Key)).OrderBy(g => g.Key))
        {
            var (method, startLayer) = GoldenMaps.ParseKey(group.Key.Key);
            double worst = group.Max(c => Errors.Relative(GoldenMaps.CaseBatch(c.Set, c.Case).Compute(method, startLayer),
                GoldenMaps.Set(c.Set).Cases.Single(g => g.Name == c.Case).ReferenceMap(c.Key)));
            TestContext.Out.WriteLine($"| {group.Key.Set} | {group.Key.Key} | {group.Count()} | {worst:E2} | {GoldenMaps.ConformanceTolerance:E0} |");
            Assert.That(worst, Is.LessThanOrEqualTo(GoldenMaps.ConformanceTolerance), $"{group.Key.Set}/{group.Key.Key}");
        }
    }
}
