using Dermxai.Attribution;

namespace Dermxai.Engine;

/// <summary>
/// Which graph outputs each method's map reads, and the maps of one job computed from them: every target
/// row of a class-specific method in one batched <see cref="RelevanceMaps"/> call.
/// </summary>
internal static class GraphMaps
{
    /// <summary>Head-reduced outputs of graphs exported with dermxai.reduced_heads (docs/methods.md, stage 1).</summary>
    internal const string AttnMeanOutput = "attn_mean", GradAttnMapOutput = "grad_attn_map", GradRelMapOutput = "grad_rel_map",
        RelMapOutput = "rel_map", AttnLastOutput = "attn_last", AttnGradLastOutput = "attn_grad_last";

    /// <summary>Outputs with one row per image ([L,B,…]); the others have one row per target row ([L,R,…]).</summary>
    internal static bool IsPerImage(string output) => output is OnnxGraph.AttnOutput or AttnMeanOutput or AttnLastOutput;

    internal static IReadOnlyList<string> OutputsFor(RelevanceMethod method, bool reducedHeads)
    {
        var needs = method.Needs();
        if (!reducedHeads) return ContractOutputs(needs);
        if (method.HeadRule() is null) return [AttnLastOutput, AttnGradLastOutput];
        return needs switch
        {
            _ when needs.HasFlag(ContractTensors.AttentionGradient) =>
                [needs.HasFlag(ContractTensors.AttentionRelevance) ? GradRelMapOutput : GradAttnMapOutput],
            _ when needs.HasFlag(ContractTensors.AttentionRelevance) => [RelMapOutput],
            _ => [AttnMeanOutput],
        };
    }

    /// <summary>The contract-v1 output names of <paramref name="tensors"/> (attn, attn_grad, attn_rel).</summary>
    internal static IReadOnlyList<string> ContractOutputs(ContractTensors tensors)
    {
        var names = new List<string>();
        if (tensors.HasFlag(ContractTensors.Attention)) names.Add(OnnxGraph.AttnOutput);
        if (tensors.HasFlag(ContractTensors.AttentionGradient)) names.Add(OnnxGraph.AttnGradOutput);
        if (tensors.HasFlag(ContractTensors.AttentionRelevance)) names.Add(OnnxGraph.AttnRelOutput);
        return names;
    }

    /// <summary>
    /// The g×g grids of <paramref name="method"/> for the job's target rows ([rows·g²]; one grid for a
    /// class-agnostic method). Per-image outputs are repeated over the target rows where the method
    /// combines them with per-target ones.
    /// </summary>
    internal static float[] Compute(RelevanceMethod method, JobOutputs job, ModelDescription model, bool reducedHeads, int startLayer)
    {
        int rows = method.IsClassSpecific() ? Math.Max(1, job.Targets.Length) : 1;
        var names = OutputsFor(method, reducedHeads);
        var inputs = names.ToDictionary(name => name, name => job.Tensors[name].Take(0, rows).Data);
        var grids = new float[rows * model.GridSize * model.GridSize];
        if (reducedHeads && method.HeadRule() is not null)
        {
            RelevanceMaps.ComputeFromReducedMaps(method, model.ContractShape(rows), inputs[names[0]], startLayer, grids);
            return grids;
        }
        var shape = reducedHeads
            ? new AttentionShape(1, rows, model.NumHeads, model.Tokens, model.PrefixTokens, model.Readout)
            : model.ContractShape(rows);
        float[] Named(string name) => inputs.GetValueOrDefault(name) ?? [];
        RelevanceMaps.Compute(method, shape,
            Named(reducedHeads ? AttnLastOutput : OnnxGraph.AttnOutput),
            Named(reducedHeads ? AttnGradLastOutput : OnnxGraph.AttnGradOutput),
            Named(OnnxGraph.AttnRelOutput), reducedHeads ? 0 : startLayer, grids);
        return grids;
    }
}
