using Dermxai.TestSupport;

namespace Dermxai.Attribution.Tests;

/// <summary>
/// The gradient-based maps on real timm tensors of each model family (tests/golden/timm-maps: attention and
/// its autograd gradient for the predicted class, float64): the kernels on the float32-rounded tensors
/// against PyTorch on the float64 originals, and the readout rows against the rows of the last block that
/// timm's gradient reaches.
/// </summary>
public class TimmFamilyMapTests
{
    private const double Float32Tolerance = 1e-5;

    private const string MapScript = """
        import sys, numpy as np, torch
        out_path, folder, prefix, readout, method = sys.argv[1:6]
        p = int(prefix)
        attn = torch.from_numpy(np.load(folder + '/attn.npy'))[:, 0]             # [L,H,N,N]
        grad = torch.from_numpy(np.load(folder + '/attn_grad_pred.npy'))[:, 0]
        n = attn.shape[-1]
        rows = {'class': [0], 'class_dist': [0, 1], 'mean_patches': list(range(p, n)), 'mean_tokens': list(range(n))}[readout]
        if method == 'generic_attention':
            R = torch.eye(n, dtype=torch.float64)
            for layer in range(attn.shape[0]):
                R = R + (grad[layer] * attn[layer]).clamp(min=0).mean(dim=0) @ R
            out = R[rows].mean(dim=0)[p:]
        else:
            a = attn[-1][:, rows].mean(dim=1)[:, p:]
            w = grad[-1][:, rows].mean(dim=1)[:, p:].mean(dim=1, keepdim=True)
            cam = (a * w).mean(dim=0).clamp(min=0)
            out = (cam - cam.min()) / (cam.max() - cam.min())
        out.numpy().astype(np.float64).tofile(out_path)
        """;

    private static IEnumerable<TestCaseData> Families()
    {
        (string Folder, int P, Readout Readout)[] families =
        [
            ("dinov2_reg", 5, Readout.Class),
            ("deit_distilled", 2, Readout.ClassDistillation),
            ("gap_fcnorm", 1, Readout.MeanPatches),
            ("no_cls_token", 0, Readout.MeanTokens),
        ];
        return families.Select(f => new TestCaseData(f.Folder, f.P, f.Readout).SetName($"Timm_{{m}}_{f.Folder}"));
    }

    private static string Folder(string family) => Path.Combine(RepositoryPaths.Root, "tests", "golden", "timm-maps", family);

    private static ContractBatch Load(string family, int prefixTokens, Readout readout)
    {
        var (attn, shape) = NpyFile.ReadFloat64(Path.Combine(Folder(family), "attn.npy"));
        var (grad, _) = NpyFile.ReadFloat64(Path.Combine(Folder(family), "attn_grad_pred.npy"));
        var contract = new AttentionShape(shape[0], shape[1], shape[2], shape[3], prefixTokens, readout);
        return new ContractBatch(contract, ToFloat(attn), ToFloat(grad), []);
    }

    private static float[] ToFloat(double[] values) => values.Select(v => (float)v).ToArray();

    [TestCaseSource(nameof(Families))]
    public void GenericAttentionMatchesTorch(string family, int prefixTokens, Readout readout) =>
        AssertMatchesTorch(RelevanceMethod.GenericAttention, family, prefixTokens, readout);

    [TestCaseSource(nameof(Families))]
    public void AttentionGradCamMatchesTorch(string family, int prefixTokens, Readout readout) =>
        AssertMatchesTorch(RelevanceMethod.AttentionGradCam, family, prefixTokens, readout);

    private static void AssertMatchesTorch(RelevanceMethod method, string family, int prefixTokens, Readout readout)
    {
        var batch = Load(family, prefixTokens, readout);
        var expected = TorchReference.RunForDoubles(MapScript, Folder(family), prefixTokens, readout.Id(), method.Id());
        var actual = batch.Compute(method);
        Assert.That(actual, Has.Length.EqualTo(batch.Shape.GridCells));
        Assert.That(Errors.Relative(actual, expected), Is.LessThanOrEqualTo(Float32Tolerance));
    }

    /// <summary>The logits depend on the last block's attention only through the rows the readout averages.</summary>
    [TestCaseSource(nameof(Families))]
    public void ReadoutRowsAreTheRowsTheGradientReaches(string family, int prefixTokens, Readout readout)
    {
        var batch = Load(family, prefixTokens, readout);
        var shape = batch.Shape;
        int n = shape.Tokens;
        long lastLayer = shape.Offset(shape.Layers - 1, 0);
        var reached = Enumerable.Range(0, n).Where(row => Enumerable.Range(0, shape.Heads).Any(head =>
            batch.AttnGrad.AsSpan((int)lastLayer + head * shape.HeadStride + row * n, n).ContainsAnyExcept(0f)));
        var (first, count) = shape.ReadoutRows;
        Assert.That(reached, Is.EqualTo(Enumerable.Range(first, count)));
    }
}
