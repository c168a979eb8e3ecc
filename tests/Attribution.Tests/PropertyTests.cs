using Dermxai.TestSupport;

namespace Dermxai.Attribution.Tests;

/// <summary>Invariants of the combination, on seeded random tensors and on golden batches.</summary>
public class PropertyTests
{
    private static IEnumerable<RelevanceMethod> Methods => RelevanceMethods.All;

    private static readonly int[] Seeds = [1, 2, 3];

    [Test]
    public void GoldenBatchesEqualSingleImages(
        [Values("small")] string setName, [ValueSource(nameof(Methods))] RelevanceMethod method)
    {
        var caseNames = GoldenMaps.Set(setName).Cases.Where(c => c.HasTensors).Select(c => c.Name).Reverse().ToArray();
        var batch = GoldenMaps.Batch(setName, caseNames);
        var grids = batch.Compute(method, startLayer: 1);
        for (int image = 0; image < caseNames.Length; image++)
        {
            var single = GoldenMaps.Batch(setName, caseNames[image]).Compute(method, startLayer: 1);
            Assert.That(batch.Grid(grids, image), Is.EqualTo(single), $"image {image} ({caseNames[image]})");
        }
    }

    [Test]
    public void BatchOrderDoesNotChangeAnyMap([ValueSource(nameof(Methods))] RelevanceMethod method, [ValueSource(nameof(Seeds))] int seed)
    {
        var batch = RandomContract.Create(seed, layers: 3, batch: 5, heads: 4, grid: 5);
        int[] order = [3, 0, 4, 2, 1];
        var grids = batch.Compute(method, startLayer: 1);
        var reordered = RandomContract.Reorder(batch, order);
        var reorderedGrids = reordered.Compute(method, startLayer: 1);
        for (int image = 0; image < order.Length; image++)
        {
            Assert.That(reordered.Grid(reorderedGrids, image), Is.EqualTo(batch.Grid(grids, order[image])));
        }
    }

    [Test]
    public void LargeBatchesRunInParallelWithTheSameResult([Values(RelevanceMethod.TransformerAttribution, RelevanceMethod.AttentionRollout)] RelevanceMethod method)
    {
        var batch = RandomContract.Create(seed: 7, layers: 4, batch: 6, heads: 3, grid: 14);
        Assert.That(RelevanceMaps.ShouldRunParallel(method, batch.Shape, startLayer: 0) || Environment.ProcessorCount < 2, Is.True);
        var grids = batch.Compute(method);
        for (int image = 0; image < batch.Shape.Batch; image++)
        {
            var alone = RandomContract.Reorder(batch, [image, image, image, image, image, image]);
            Assert.That(batch.Grid(grids, image), Is.EqualTo(alone.Grid(alone.Compute(method), 0)));
        }
    }

    [Test]
    public void HeadOrderDoesNotChangeAnyMap([ValueSource(nameof(Methods))] RelevanceMethod method, [ValueSource(nameof(Seeds))] int seed)
    {
        var batch = RandomContract.Create(seed, layers: 3, batch: 2, heads: 4, grid: 6);
        int[] permutation = [2, 0, 3, 1];
        var permuted = batch with
        {
            Attn = RandomContract.PermuteHeads(batch.Shape, batch.Attn, permutation),
            AttnGrad = RandomContract.PermuteHeads(batch.Shape, batch.AttnGrad, permutation),
            AttnRel = RandomContract.PermuteHeads(batch.Shape, batch.AttnRel, permutation),
        };
        var expected = batch.Compute(method).Select(v => (double)v).ToArray();
        Assert.That(Errors.Relative(permuted.Compute(method), expected), Is.LessThanOrEqualTo(1e-6));
    }

    [Test]
    public void ZeroGradientGivesZeroMap([Values(RelevanceMethod.TransformerAttribution, RelevanceMethod.GenericAttention,
        RelevanceMethod.AttentionGradCam)] RelevanceMethod method)
    {
        var batch = RandomContract.Create(seed: 11, layers: 3, batch: 2, heads: 3, grid: 4);
        var zeroGradient = batch with { AttnGrad = new float[batch.AttnGrad.Length] };
        Assert.That(zeroGradient.Compute(method), Is.All.EqualTo(0f));
    }

    [Test]
    public void AttentionRolloutClsRowSumsToOne([ValueSource(nameof(Seeds))] int seed, [Values(0, 2)] int startLayer)
    {
        var batch = RandomContract.Create(seed, layers: 4, batch: 1, heads: 3, grid: 5);
        var shape = batch.Shape;
        var maps = new float[shape.Layers * shape.HeadStride];
        for (int layer = 0; layer < shape.Layers; layer++)
        {
            var heads = batch.Attn.AsSpan((int)shape.Offset(layer, 0), shape.ImageLayerStride);
            HeadReduction.ReduceLayer(HeadRule.Mean, heads, default, shape.Heads, shape.Tokens,
                maps.AsSpan(layer * shape.HeadStride, shape.HeadStride));
        }
        var clsRow = new float[shape.Tokens];
        ClsRollout.FoldClsRow(maps, shape.Layers, shape.Tokens, startLayer, normalizeRows: true, clsRow);
        Assert.That(clsRow.Sum(v => (double)v), Is.EqualTo(1.0).Within(1e-6));
        Assert.That(clsRow, Is.All.GreaterThanOrEqualTo(0f));
    }

    /// <summary>Stage 1 (head reduction per layer) followed by stage 2 (fold) equals the fused path.</summary>
    [Test]
    public void StagesComposeToTheFusedPath([Values(RelevanceMethod.TransformerAttribution, RelevanceMethod.GenericAttention,
        RelevanceMethod.AttentionRollout, RelevanceMethod.LrpRollout, RelevanceMethod.RawAttention, RelevanceMethod.PartialLrp)] RelevanceMethod method)
    {
        var batch = GoldenMaps.Batch("small", "case00", "case03");
        var shape = batch.Shape;
        var (xTensor, yTensor) = HeadReduction.Operands(method);
        float[]? Pick(ContractTensors t) => t switch
        {
            ContractTensors.Attention => batch.Attn,
            ContractTensors.AttentionGradient => batch.AttnGrad,
            ContractTensors.AttentionRelevance => batch.AttnRel,
            _ => null,
        };
        var reduced = new float[shape.Layers * shape.Batch * shape.HeadStride];
        for (int layer = 0; layer < shape.Layers; layer++)
        {
            for (int image = 0; image < shape.Batch; image++)
            {
                int start = (int)shape.Offset(layer, image);
                var y = Pick(yTensor) is { } yValues ? yValues.AsSpan(start, shape.ImageLayerStride) : default;
                HeadReduction.ReduceLayer(method.HeadRule()!.Value, Pick(xTensor).AsSpan(start, shape.ImageLayerStride), y,
                    shape.Heads, shape.Tokens, reduced.AsSpan((layer * shape.Batch + image) * shape.HeadStride, shape.HeadStride));
            }
        }
        var staged = new float[shape.Batch * shape.GridCells];
        RelevanceMaps.ComputeFromReducedMaps(method, shape, reduced, startLayer: 1, staged);
        var fused = batch.Compute(method, startLayer: 1).Select(v => (double)v).ToArray();
        Assert.That(Errors.Relative(staged, fused), Is.LessThanOrEqualTo(1e-6));
    }
}
