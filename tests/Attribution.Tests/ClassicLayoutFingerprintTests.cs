using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;

namespace Dermxai.Attribution.Tests;

/// <summary>
/// The classic layout (one class token, class readout) keeps the maps of the kernels that knew no other
/// layout bit for bit: SHA-256 of every map's float bits, recorded from those kernels, on random contracts
/// small enough for the in-register head sums and large enough (N = 530) for the streamed ones.
/// Vector widths and FMA change the last bits of the SIMD sums, so the fingerprints hold for the
/// instruction set they were recorded on (x64 with AVX-512 and FMA, 256-bit Vector<T>) and the test is skipped elsewhere.
/// </summary>
public class ClassicLayoutFingerprintTests
{
    private static readonly string recordedOn = "Vector<float> 8, Vector512, FMA";

    private static string ThisMachine =>
        $"Vector<float> {Vector<float>.Count}{(Vector512.IsHardwareAccelerated ? ", Vector512" : "")}{(Fma.IsSupported ? ", FMA" : "")}";

    private static readonly Dictionary<string, string> recorded = new()
    {
        ["attention_gradcam/5"] = "5c74fefb10f3cd2e",
        ["attention_gradcam/23"] = "a938b827d2364837",
        ["attention_rollout/5"] = "226cbc9eabed083b/8d5f8eddb4beae07",
        ["attention_rollout/23"] = "a8697235674f68dd/4d91b72dfb4928a7",
        ["generic_attention/5"] = "80354e34c90cd0f0/8d0af97756238d41",
        ["generic_attention/23"] = "6840e58f523155ae/2500f3f0e3a8eea4",
        ["lrp_rollout/5"] = "c3c70fd9ce685fe1/f7e8239f36b3ac53",
        ["lrp_rollout/23"] = "ff206aa865544f9a/fafb79220ec1496d",
        ["partial_lrp/5"] = "08d06682e34eb21f/08d06682e34eb21f",
        ["partial_lrp/23"] = "6683b158c9e20af4/6683b158c9e20af4",
        ["raw_attention/5"] = "23365bad0187fdfd/23365bad0187fdfd",
        ["raw_attention/23"] = "72f642a2501333b7/72f642a2501333b7",
        ["transformer_attribution/5"] = "5fbf1e9090832458/1f09b1958f202a4f",
        ["transformer_attribution/23"] = "e9ceb2d584be9c73/d73b8410f17edfc2",
    };

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var method in RelevanceMethods.All)
        {
            foreach (int grid in new[] { 5, 23 })
            {
                yield return new TestCaseData(method, grid).SetName($"Classic_{method.Id()}_grid{grid}");
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void MapsAreBitIdenticalToTheClassicKernels(RelevanceMethod method, int grid)
    {
        if (ThisMachine != recordedOn)
        {
            Assert.Ignore($"The fingerprints were recorded on {recordedOn}; this machine has {ThisMachine}.");
        }
        var batch = RandomContract.Create(seed: 11 + grid, layers: 3, batch: 2, heads: 3, grid: grid);
        int startLayer = method.UsesStartLayer() ? 1 : 0;
        string actual = Fingerprint(batch.Compute(method, startLayer));
        if (method.HeadRule() is { } rule)
        {
            actual += "/" + Fingerprint(FromReducedMaps(batch, method, rule, startLayer));
        }
        Assert.That(actual, Is.EqualTo(recorded.GetValueOrDefault($"{method.Id()}/{grid}")));
    }

    private static float[] FromReducedMaps(ContractBatch batch, RelevanceMethod method, HeadRule rule, int startLayer)
    {
        var shape = batch.Shape;
        var (xTensor, yTensor) = HeadReduction.Operands(method);
        var reduced = new float[shape.Layers * shape.Batch * shape.HeadStride];
        for (int layer = 0; layer < shape.Layers; layer++)
        {
            for (int image = 0; image < shape.Batch; image++)
            {
                int start = (int)shape.Offset(layer, image);
                var y = yTensor == ContractTensors.None ? default : Tensor(batch, yTensor).AsSpan(start, shape.ImageLayerStride);
                HeadReduction.ReduceLayer(rule, Tensor(batch, xTensor).AsSpan(start, shape.ImageLayerStride), y, shape.Heads,
                    shape.Tokens, reduced.AsSpan((layer * shape.Batch + image) * shape.HeadStride, shape.HeadStride));
            }
        }
        var grids = new float[shape.Batch * shape.GridCells];
        RelevanceMaps.ComputeFromReducedMaps(method, shape, reduced, startLayer, grids);
        return grids;
    }

    private static float[] Tensor(ContractBatch batch, ContractTensors tensor) => tensor switch
    {
        ContractTensors.Attention => batch.Attn,
        ContractTensors.AttentionGradient => batch.AttnGrad,
        _ => batch.AttnRel,
    };

    private static string Fingerprint(float[] maps) => Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(maps.AsSpan())))[..16];
}
