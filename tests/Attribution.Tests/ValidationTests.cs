namespace Dermxai.Attribution.Tests;

/// <summary>Bad input throws ArgumentException with a sentence naming the tensor and the expected shape.</summary>
public class ValidationTests
{
    private static ContractBatch Batch() => RandomContract.Create(seed: 5, layers: 2, batch: 2, heads: 2, grid: 3);

    [Test]
    public void WrongTensorLengthNamesTensorAndShape()
    {
        var batch = Batch();
        var grids = new float[batch.Shape.Batch * batch.Shape.GridCells];
        var error = Assert.Throws<ArgumentException>(() => RelevanceMaps.Compute(RelevanceMethod.TransformerAttribution, batch.Shape,
            batch.Attn, batch.AttnGrad.AsSpan(1), batch.AttnRel, 0, grids));
        Assert.That(error!.Message, Does.Contain("attn_grad").And.Contain("[L,B,H,N,N] = [2,2,2,10,10]"));
    }

    [Test]
    public void MissingNeededTensorNamesIt()
    {
        var batch = Batch();
        var grids = new float[batch.Shape.Batch * batch.Shape.GridCells];
        var error = Assert.Throws<ArgumentException>(() => RelevanceMaps.Compute(RelevanceMethod.LrpRollout, batch.Shape,
            batch.Attn, batch.AttnGrad, default, 0, grids));
        Assert.That(error!.Message, Does.Contain("attn_rel").And.Contain("[L,B,H,N,N]"));
    }

    [Test]
    public void UnneededTensorsMayBeEmpty()
    {
        var batch = Batch();
        var grids = new float[batch.Shape.Batch * batch.Shape.GridCells];
        Assert.DoesNotThrow(() => RelevanceMaps.Compute(RelevanceMethod.AttentionRollout, batch.Shape, batch.Attn, default, default, 0, grids));
    }

    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    [TestCase(float.NegativeInfinity)]
    public void NonFiniteValueIsReported(float bad)
    {
        foreach (var method in RelevanceMethods.All)
        {
            var batch = Batch();
            var shape = batch.Shape;
            int clsRowOfLastLayer = (int)shape.Offset(shape.Layers - 1, 1) + 3;
            var (xTensor, _) = HeadReduction.Operands(method);
            string name = xTensor switch
            {
                ContractTensors.Attention => "attn",
                ContractTensors.AttentionGradient => "attn_grad",
                _ => "attn_rel",
            };
            var target = xTensor switch
            {
                ContractTensors.Attention => batch.Attn,
                ContractTensors.AttentionGradient => batch.AttnGrad,
                _ => batch.AttnRel,
            };
            target[clsRowOfLastLayer] = bad;
            var error = Assert.Throws<ArgumentException>(() => batch.Compute(method), method.Id());
            Assert.That(error!.Message, Does.Contain(name).And.Contain("NaN or Inf").And.Contain("image 1").And.Contain("[L,B,H,N,N]"), method.Id());
        }
    }

    [Test]
    public void EmptyBatchIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => _ = new AttentionShape(12, 0, 12, 197));
        Assert.That(error!.Message, Does.Contain("batch is empty").And.Contain("[L,B,H,N,N]"));
    }

    [Test]
    public void DefaultShapeIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            RelevanceMaps.Compute(RelevanceMethod.RawAttention, default, default, default, default, 0, default));
        Assert.That(error!.Message, Does.Contain("[L,B,H,N,N]"));
    }

    [Test]
    public void NonSquareTokenCountIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => _ = new AttentionShape(12, 1, 12, 196));
        Assert.That(error!.Message, Does.Contain("1 + g²").And.Contain("[L,B,H,N,N]"));
    }

    [Test]
    public void GridSideIsTheSquareRoot() => Assert.That(new AttentionShape(12, 3, 12, 197).GridSide, Is.EqualTo(14));

    [Test]
    public void StartLayerOutOfRangeIsRejected([Values(-1, 2)] int startLayer)
    {
        var batch = Batch();
        var error = Assert.Throws<ArgumentException>(() => batch.Compute(RelevanceMethod.TransformerAttribution, startLayer));
        Assert.That(error!.Message, Does.Contain("startLayer").And.Contain("[L,B,H,N,N]"));
    }

    [Test]
    public void WrongGridLengthIsRejected()
    {
        var batch = Batch();
        var error = Assert.Throws<ArgumentException>(() => RelevanceMaps.Compute(RelevanceMethod.RawAttention, batch.Shape,
            batch.Attn, default, default, 0, new float[5]));
        Assert.That(error!.Message, Does.Contain("grids").And.Contain("[B, g*g] = [2,9]"));
    }

    [Test]
    public void TargetOutOfRangeIsRejected([Values(-1L, 7L)] long target)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            RelevanceMaps.ValidateClassifierOutputs(new float[14], [0, target], batch: 2, classes: 7));
        Assert.That(error!.Message, Does.Contain("target[1]").And.Contain("[B,C] = [2,7]"));
    }

    [Test]
    public void NonFiniteLogitsAreRejected()
    {
        var logits = new float[14];
        logits[3] = float.NaN;
        var error = Assert.Throws<ArgumentException>(() => RelevanceMaps.ValidateClassifierOutputs(logits, [0, 1], 2, 7));
        Assert.That(error!.Message, Does.Contain("logits").And.Contain("[B,C] = [2,7]"));
    }

    [Test]
    public void GradCamCannotUseReducedMaps()
    {
        var shape = new AttentionShape(2, 1, 1, 10);
        Assert.Throws<ArgumentException>(() => RelevanceMaps.ComputeFromReducedMaps(RelevanceMethod.AttentionGradCam, shape,
            new float[2 * 100], 0, new float[9]));
    }
}
