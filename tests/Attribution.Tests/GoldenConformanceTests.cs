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
        var batch = GoldenMaps.Batch(setName, caseName);
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
        foreach (string setName in GoldenSet.ModelSetNames)
        {
            var cases = GoldenMaps.Set(setName).Cases.Where(c => c.HasTensors).ToArray();
            foreach (string key in cases.SelectMany(c => c.Maps.Keys).Distinct().Order())
            {
                var (method, startLayer) = GoldenMaps.ParseKey(key);
                double worst = cases.Max(c =>
                    Errors.Relative(GoldenMaps.Batch(setName, c.Name).Compute(method, startLayer), c.ReferenceMap(key)));
                TestContext.Out.WriteLine($"| {setName} | {key} | {cases.Length} | {worst:E2} | {GoldenMaps.ConformanceTolerance:E0} |");
                Assert.That(worst, Is.LessThanOrEqualTo(GoldenMaps.ConformanceTolerance), $"{setName}/{key}");
            }
        }
    }
}
