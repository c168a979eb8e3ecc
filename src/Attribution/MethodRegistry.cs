namespace Dermxai.Attribution;

/// <summary>
/// The one table of relevance methods (exact math: docs/methods.md). Adding a method is a member of
/// <see cref="RelevanceMethod"/> and a row here; the engine, server, CLI and evaluation read the row.
/// </summary>
public static class MethodRegistry
{
    private const ContractTensors Attn = ContractTensors.Attention, Grad = ContractTensors.AttentionGradient,
        Rel = ContractTensors.AttentionRelevance, None = ContractTensors.None;

    private static readonly RelevanceMethodDescriptor[] table =
    [
        new(RelevanceMethod.TransformerAttribution, "transformer_attribution", ClassSpecific: true, UsesStartLayer: true,
            HeadRule.MeanClampedProduct, X: Grad, Y: Rel, MapFold.Rollout,
            "Rollout of mean_h(max(0, grad*LRP relevance)) + I",
            "Chefer et al. CVPR'21 (Transformer-Explainability, ViT_LRP 'transformer_attribution')"),
        new(RelevanceMethod.GenericAttention, "generic_attention", ClassSpecific: true, UsesStartLayer: false,
            HeadRule.MeanClampedProduct, X: Grad, Y: Attn, MapFold.Rollout,
            "Gradient-weighted attention rollout R += mean_h(max(0, grad*A)) R",
            "Chefer et al. ICCV'21 (Transformer-MM-Explainability ViT notebook)"),
        new(RelevanceMethod.AttentionRollout, "attention_rollout", ClassSpecific: false, UsesStartLayer: true,
            HeadRule.Mean, X: Attn, Y: None, MapFold.RowNormalizedRollout,
            "Row-normalised rollout of mean_h(A) + I",
            "Abnar & Zuidema 2020 as in Transformer-Explainability Baselines.generate_rollout"),
        new(RelevanceMethod.LrpRollout, "lrp_rollout", ClassSpecific: true, UsesStartLayer: true,
            HeadRule.MeanClamped, X: Rel, Y: None, MapFold.Rollout,
            "Rollout of mean_h(max(0, LRP relevance of A)) + I",
            "Transformer-Explainability ViT_LRP 'rollout'"),
        new(RelevanceMethod.RawAttention, "raw_attention", ClassSpecific: false, UsesStartLayer: false,
            HeadRule.MeanClamped, X: Attn, Y: None, MapFold.LastBlock,
            "Last block's head-mean CLS attention",
            "Transformer-Explainability ViT_LRP 'last_layer_attn' (paper's raw attention)"),
        new(RelevanceMethod.AttentionGradCam, "attention_gradcam", ClassSpecific: true, UsesStartLayer: false,
            HeadRule: null, X: Attn, Y: Grad, MapFold.AttentionGradCam,
            "Last block's CLS attention weighted per head by its mean gradient, clamped and min-max normalised",
            "Transformer-Explainability Baselines.generate_cam_attn (paper's GradCAM)"),
        new(RelevanceMethod.PartialLrp, "partial_lrp", ClassSpecific: true, UsesStartLayer: false,
            HeadRule.MeanClamped, X: Rel, Y: None, MapFold.LastBlock,
            "Last block's head-mean clamped LRP relevance of the CLS attention row",
            "Transformer-Explainability 'last_layer' (paper's partial LRP)"),
    ];

    private static readonly RelevanceMethodDescriptor[] byMethod = IndexByMethod(table);

    /// <summary>Every descriptor in <see cref="RelevanceMethod"/> order.</summary>
    public static IReadOnlyList<RelevanceMethodDescriptor> All => byMethod;

    public static RelevanceMethodDescriptor Of(RelevanceMethod method) =>
        (uint)method < (uint)byMethod.Length
            ? byMethod[(int)method]
            : throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown relevance method.");

    /// <summary>Exactly one row per enum member, so that <see cref="Of"/> is an array read.</summary>
    private static RelevanceMethodDescriptor[] IndexByMethod(RelevanceMethodDescriptor[] rows)
    {
        var members = Enum.GetValues<RelevanceMethod>();
        var index = new RelevanceMethodDescriptor[members.Length];
        foreach (var row in rows)
        {
            if ((uint)row.Method >= (uint)index.Length || index[(int)row.Method] is not null)
                throw new InvalidOperationException($"MethodRegistry lists {row.Method} twice or it is not a dense enum value.");
            index[(int)row.Method] = row;
        }
        var missing = members.Where(m => index[(int)m] is null).ToArray();
        if (missing.Length > 0)
            throw new InvalidOperationException($"MethodRegistry has no row for {string.Join(", ", missing)}.");
        return index;
    }
}
