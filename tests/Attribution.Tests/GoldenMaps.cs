using Dermxai.Attribution;
using Dermxai.TestSupport;

namespace Dermxai.Attribution.Tests;

/// <summary>Golden cases turned into contract inputs, and manifest keys into (method, start_layer).</summary>
internal static class GoldenMaps
{
    public const double ConformanceTolerance = 1e-6;

    private static readonly Dictionary<string, GoldenSet> sets = new();

    public static GoldenSet Set(string name)
    {
        lock (sets)
        {
            if (!sets.TryGetValue(name, out var set))
            {
                set = GoldenSet.Load(name);
                sets[name] = set;
            }
            return set;
        }
    }

    /// <summary>"transformer_attribution_s1" → (TransformerAttribution, 1); keys without _s<k> use 0.</summary>
    public static (RelevanceMethod Method, int StartLayer) ParseKey(string key)
    {
        int startLayer = 0;
        string id = key;
        int marker = key.LastIndexOf("_s", StringComparison.Ordinal);
        if (marker > 0 && int.TryParse(key.AsSpan(marker + 2), out int parsed))
        {
            startLayer = parsed;
            id = key[..marker];
        }
        if (!RelevanceMethods.TryParse(id, out var method))
        {
            throw new InvalidDataException($"Unknown method in golden key {key}.");
        }
        return (method, startLayer);
    }

    /// <summary>The methods that read the last block's attn and attn_grad only.</summary>
    public static readonly IReadOnlySet<RelevanceMethod> LastBlockMethods = new HashSet<RelevanceMethod>
        { RelevanceMethod.AttentionGradCam, RelevanceMethod.RawAttention };

    /// <summary>Every (set, case, key) the kept tensors determine: the conformance matrix.</summary>
    public static IEnumerable<TestCaseData> ConformanceCases()
    {
        foreach (string setName in GoldenSet.ModelSetNames)
        {
            foreach (var goldenCase in Set(setName).Cases.Where(c => c.HasTensors || c.HasLastBlock))
            {
                foreach (string key in goldenCase.Maps.Keys.Order())
                {
                    if (goldenCase.HasTensors || LastBlockMethods.Contains(ParseKey(key).Method))
                        yield return new TestCaseData(setName, goldenCase.Name, key).SetName($"Golden_{setName}_{goldenCase.Name}_{key}");
                }
            }
        }
    }

    /// <summary>The tensors of one golden case: all blocks, or the last block alone as a one-block model.</summary>
    public static ContractBatch CaseBatch(string setName, string caseName)
    {
        var set = Set(setName);
        var goldenCase = set.Cases.Single(c => c.Name == caseName);
        if (goldenCase.HasTensors) return Batch(setName, caseName);
        var shape = new AttentionShape(1, 1, set.Model.Heads, set.Model.Tokens);
        return new ContractBatch(shape, goldenCase.Load("attn_last_block").ToFloat32(),
            goldenCase.Load("attn_grad_last_block").ToFloat32(), new float[shape.TensorLength]);
    }

    /// <summary>A batch built from golden cases: [L,H,N,N] per image interleaved into [L,B,H,N,N].</summary>
    public static ContractBatch Batch(string setName, params string[] caseNames)
    {
        var set = Set(setName);
        var cases = caseNames.Select(name => set.Cases.Single(c => c.Name == name)).ToArray();
        var shape = new AttentionShape(set.Model.Depth, cases.Length, set.Model.Heads, set.Model.Tokens);
        return new ContractBatch(shape,
            Interleave(shape, cases.Select(c => c.Attention()).ToArray()),
            Interleave(shape, cases.Select(c => c.AttentionGradient()).ToArray()),
            Interleave(shape, cases.Select(c => c.AttentionRelevance()).ToArray()));
    }

    public static float[] Interleave(AttentionShape shape, float[][] perImage)
    {
        var batch = new float[shape.TensorLength];
        int block = shape.ImageLayerStride;
        for (int layer = 0; layer < shape.Layers; layer++)
        {
            for (int image = 0; image < shape.Batch; image++)
            {
                Array.Copy(perImage[image], (long)layer * block, batch, shape.Offset(layer, image), block);
            }
        }
        return batch;
    }
}

/// <summary>The three [L,B,H,N,N] contract tensors of one batch.</summary>
internal sealed record ContractBatch(AttentionShape Shape, float[] Attn, float[] AttnGrad, float[] AttnRel)
{
    public float[] Compute(RelevanceMethod method, int startLayer = 0)
    {
        var grids = new float[Shape.Batch * Shape.GridCells];
        RelevanceMaps.Compute(method, Shape, Attn, AttnGrad, AttnRel, startLayer, grids);
        return grids;
    }

    public float[] Grid(float[] grids, int image) => grids.AsSpan(image * Shape.GridCells, Shape.GridCells).ToArray();
}
