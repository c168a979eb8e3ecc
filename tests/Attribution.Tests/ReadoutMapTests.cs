using Dermxai.TestSupport;

namespace Dermxai.Attribution.Tests;

/// <summary>
/// Prefix tokens and readouts: every method's map equals its definition (<see cref="ReadoutReferenceMaps"/>)
/// for P ∈ {0, 1, 2, 5} and each readout the prefix allows, and renumbering prefix tokens that the readout
/// weighs alike leaves every map unchanged.
/// </summary>
public class ReadoutMapTests
{
    private const double Tolerance = 1e-5;

    private static readonly int[] prefixCounts = [0, 1, 2, 5];

    private static IEnumerable<(int PrefixTokens, Readout Readout)> Layouts() =>
        from p in prefixCounts
        from readout in Readouts.All
        where p >= readout.MinimumPrefixTokens()
        select (p, readout);

    private static IEnumerable<TestCaseData> MethodLayouts() => LayoutsOf(RelevanceMethods.All);

    private static IEnumerable<TestCaseData> ReducibleMethodLayouts() =>
        LayoutsOf(RelevanceMethods.All.Where(method => method.HeadRule() is not null));

    private static IEnumerable<TestCaseData> LayoutsOf(IEnumerable<RelevanceMethod> methods) =>
        from layout in Layouts()
        from method in methods
        select new TestCaseData(method, layout.PrefixTokens, layout.Readout)
            .SetName($"{{m}}_{method.Id()}_P{layout.PrefixTokens}_{layout.Readout.Id()}");

    private static ContractBatch Batch(int prefixTokens, Readout readout) =>
        RandomContract.Create(seed: 31 + prefixTokens, layers: 3, batch: 2, heads: 3, grid: 3, prefixTokens, readout);

    private static int[] StartLayers(RelevanceMethod method) => method.UsesStartLayer() ? [0, 1] : [0];

    [TestCaseSource(nameof(MethodLayouts))]
    public void MapEqualsTheDefinition(RelevanceMethod method, int prefixTokens, Readout readout)
    {
        var batch = Batch(prefixTokens, readout);
        foreach (int startLayer in StartLayers(method))
        {
            var grids = batch.Compute(method, startLayer);
            for (int image = 0; image < batch.Shape.Batch; image++)
            {
                var expected = ReadoutReferenceMaps.Map(method, batch, image, startLayer);
                Assert.That(Errors.Relative(batch.Grid(grids, image), expected), Is.LessThanOrEqualTo(Tolerance),
                    $"image {image}, start layer {startLayer}");
            }
        }
    }

    [TestCaseSource(nameof(ReducibleMethodLayouts))]
    public void ReducedMapsPathEqualsTheDefinition(RelevanceMethod method, int prefixTokens, Readout readout)
    {
        var batch = Batch(prefixTokens, readout);
        var reduced = ReadoutReferenceMaps.ReducedMaps(method, batch);
        foreach (int startLayer in StartLayers(method))
        {
            var grids = new float[batch.Shape.Batch * batch.Shape.GridCells];
            RelevanceMaps.ComputeFromReducedMaps(method, batch.Shape, reduced, startLayer, grids);
            for (int image = 0; image < batch.Shape.Batch; image++)
            {
                var expected = ReadoutReferenceMaps.Map(method, batch, image, startLayer);
                Assert.That(Errors.Relative(batch.Grid(grids, image), expected), Is.LessThanOrEqualTo(Tolerance),
                    $"image {image}, start layer {startLayer}");
            }
        }
    }

    /// <summary>
    /// Stack scratch for small layouts, pooled scratch above the stack limits (N = 5 + 33² here). The first,
    /// unoptimised code the JIT emits boxes enums, so a method passes once one call, after warm-up rounds
    /// with pauses for the background compilation, allocates nothing; an allocation in every call never does.
    /// </summary>
    [TestCase(1, Readout.Class, 3)]
    [TestCase(5, Readout.MeanPatches, 3)]
    [TestCase(2, Readout.ClassDistillation, 3)]
    [TestCase(0, Readout.MeanTokens, 3)]
    [TestCase(5, Readout.MeanPatches, 33)]
    public void ComputingAllocatesNothing(int prefixTokens, Readout readout, int grid)
    {
        var batch = RandomContract.Create(seed: 7, layers: 2, batch: 1, heads: 1, grid, prefixTokens, readout);
        var grids = new float[batch.Shape.GridCells];
        void Call(RelevanceMethod method) => RelevanceMaps.Compute(method, batch.Shape, batch.Attn, batch.AttnGrad, batch.AttnRel, 0, grids);
        foreach (var method in RelevanceMethods.All)
        {
            long fewest = long.MaxValue;
            for (int round = 0; round < 20 && fewest > 0; round++)
            {
                for (int call = 0; call < 40; call++) Call(method);
                Thread.Sleep(100);
                long before = GC.GetAllocatedBytesForCurrentThread();
                Call(method);
                fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            Assert.That(fewest, Is.Zero, method.Id());
        }
    }

    /// <summary>Renumberings of the prefix tokens that keep the readout's row weights (the patches stay put).</summary>
    private static IEnumerable<TestCaseData> PrefixPermutations()
    {
        (int P, Readout Readout, int[] Order)[] cases =
        [
            (2, Readout.ClassDistillation, [1, 0]),
            (5, Readout.ClassDistillation, [1, 0, 4, 2, 3]),
            (5, Readout.Class, [0, 3, 4, 1, 2]),
            (2, Readout.MeanTokens, [1, 0]),
            (5, Readout.MeanTokens, [4, 2, 0, 3, 1]),
            (5, Readout.MeanPatches, [3, 0, 4, 1, 2]),
        ];
        return from c in cases
               from method in RelevanceMethods.All
               select new TestCaseData(method, c.P, c.Readout, c.Order)
                   .SetName($"PrefixPermutation_{method.Id()}_P{c.P}_{c.Readout.Id()}_{string.Join("", c.Order)}");
    }

    [TestCaseSource(nameof(PrefixPermutations))]
    public void PermutingPrefixTokensLeavesTheMapUnchanged(RelevanceMethod method, int prefixTokens, Readout readout, int[] prefixOrder)
    {
        var batch = Batch(prefixTokens, readout);
        var order = prefixOrder.Concat(Enumerable.Range(prefixTokens, batch.Shape.GridCells)).ToArray();
        var permuted = batch with
        {
            Attn = RandomContract.PermuteTokens(batch.Shape, batch.Attn, order),
            AttnGrad = RandomContract.PermuteTokens(batch.Shape, batch.AttnGrad, order),
            AttnRel = RandomContract.PermuteTokens(batch.Shape, batch.AttnRel, order),
        };
        int startLayer = method.UsesStartLayer() ? 1 : 0;
        var expected = batch.Compute(method, startLayer).Select(v => (double)v).ToArray();
        Assert.That(Errors.Relative(permuted.Compute(method, startLayer), expected), Is.LessThanOrEqualTo(1e-6));
    }

    [Test]
    public void TheClassReadoutWithOnePrefixTokenIsTheClassicLayout()
    {
        var classic = new AttentionShape(2, 1, 3, 10);
        Assert.That(new AttentionShape(2, 1, 3, 10, PrefixTokens: 1, Readout: Readout.Class), Is.EqualTo(classic));
        Assert.That((classic.PrefixTokens, classic.Readout, classic.GridSide, classic.ReadoutRows), Is.EqualTo((1, Readout.Class, 3, (0, 1))));
    }

    [TestCase(5, 5 + 16, Readout.Class, 4, 0, 1)]
    [TestCase(2, 2 + 9, Readout.ClassDistillation, 3, 0, 2)]
    [TestCase(1, 1 + 9, Readout.MeanPatches, 3, 1, 9)]
    [TestCase(0, 16, Readout.MeanTokens, 4, 0, 16)]
    public void GridAndReadoutRowsFollowThePrefix(int prefixTokens, int tokens, Readout readout, int side, int firstRow, int rowCount)
    {
        var shape = new AttentionShape(2, 1, 4, tokens, prefixTokens, readout);
        Assert.That((shape.GridSide, shape.GridCells, shape.ReadoutRows), Is.EqualTo((side, side * side, (firstRow, rowCount))));
    }

    [TestCase(0, 16, Readout.Class, "readout 'class' needs at least 1 prefix token, but P = 0")]
    [TestCase(1, 10, Readout.ClassDistillation, "readout 'class_dist' needs at least 2 prefix tokens, but P = 1")]
    [TestCase(5, 20, Readout.Class, "5 + g²")]
    [TestCase(-1, 16, Readout.MeanTokens, "P must be 0 or more")]
    [TestCase(1, 10, (Readout)9, "readout 9 is unknown")]
    public void InvalidLayoutsAreRejected(int prefixTokens, int tokens, Readout readout, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => _ = new AttentionShape(2, 1, 4, tokens, prefixTokens, readout));
        Assert.That(error!.Message, Does.Contain(expected).And.Contain("[L,B,H,N,N]"));
    }

    [Test]
    public void ReadoutIdsRoundTrip()
    {
        foreach (var readout in Readouts.All)
        {
            Assert.That(Readouts.TryParse($" {readout.Id().ToUpperInvariant()} ", out var parsed) && parsed == readout, Is.True, readout.Id());
        }
        Assert.That(Readouts.TryParse("cls", out _), Is.False);
    }
}
