namespace Dermxai.Attribution;

/// <summary>The relevance methods Dermxai serves (exact math: docs/methods.md).</summary>
public enum RelevanceMethod
{
    TransformerAttribution,
    GenericAttention,
    AttentionRollout,
    LrpRollout,
    RawAttention,
    AttentionGradCam,
    PartialLrp,
}

/// <summary>The [L,B,H,N,N] contract tensors a method reads.</summary>
[Flags]
public enum ContractTensors
{
    None = 0,
    Attention = 1,
    AttentionGradient = 2,
    AttentionRelevance = 4,
}

/// <summary>Names, properties and input needs of every <see cref="RelevanceMethod"/>.</summary>
public static class RelevanceMethods
{
    private static readonly RelevanceMethod[] all = Enum.GetValues<RelevanceMethod>();

    public static IReadOnlyList<RelevanceMethod> All => all;

    public static RelevanceMethod Default => RelevanceMethod.TransformerAttribution;

    /// <summary>The wire id, e.g. "transformer_attribution".</summary>
    public static string Id(this RelevanceMethod m) => m switch
    {
        RelevanceMethod.TransformerAttribution => "transformer_attribution",
        RelevanceMethod.GenericAttention => "generic_attention",
        RelevanceMethod.AttentionRollout => "attention_rollout",
        RelevanceMethod.LrpRollout => "lrp_rollout",
        RelevanceMethod.RawAttention => "raw_attention",
        RelevanceMethod.AttentionGradCam => "attention_gradcam",
        RelevanceMethod.PartialLrp => "partial_lrp",
        _ => throw new ArgumentOutOfRangeException(nameof(m), m, "Unknown relevance method."),
    };

    /// <summary>Parses a wire id (case-insensitive, surrounding whitespace ignored).</summary>
    public static bool TryParse(string? id, out RelevanceMethod m)
    {
        var wanted = id?.Trim();
        foreach (var candidate in all)
        {
            if (string.Equals(candidate.Id(), wanted, StringComparison.OrdinalIgnoreCase))
            {
                m = candidate;
                return true;
            }
        }
        m = Default;
        return false;
    }

    /// <summary>False for raw attention and attention rollout: their map ignores the target class.</summary>
    public static bool IsClassSpecific(this RelevanceMethod m) =>
        m is not (RelevanceMethod.RawAttention or RelevanceMethod.AttentionRollout);

    /// <summary>
    /// True where the reference has a start_layer (docs/methods.md#start-layer); the other
    /// methods ignore the argument.
    /// </summary>
    public static bool UsesStartLayer(this RelevanceMethod m) =>
        m is RelevanceMethod.TransformerAttribution or RelevanceMethod.LrpRollout or RelevanceMethod.AttentionRollout;

    /// <summary>True where the map is a readout-row rollout over several layers (false: last block only).</summary>
    public static bool IsRollout(this RelevanceMethod m) =>
        m is RelevanceMethod.TransformerAttribution or RelevanceMethod.GenericAttention
            or RelevanceMethod.AttentionRollout or RelevanceMethod.LrpRollout;

    public static string Description(this RelevanceMethod m) => m switch
    {
        RelevanceMethod.TransformerAttribution =>
            "Rollout of mean_h(max(0, grad*LRP relevance)) + I, Chefer et al. CVPR'21 (Transformer-Explainability, ViT_LRP 'transformer_attribution').",
        RelevanceMethod.GenericAttention =>
            "Gradient-weighted attention rollout R += mean_h(max(0, grad*A)) R, Chefer et al. ICCV'21 (Transformer-MM-Explainability ViT notebook).",
        RelevanceMethod.AttentionRollout =>
            "Row-normalised rollout of mean_h(A) + I, Abnar & Zuidema 2020 as in Transformer-Explainability Baselines.generate_rollout.",
        RelevanceMethod.LrpRollout =>
            "Rollout of mean_h(max(0, LRP relevance of A)) + I, Transformer-Explainability ViT_LRP 'rollout'.",
        RelevanceMethod.RawAttention =>
            "Last block's head-mean CLS attention, Transformer-Explainability ViT_LRP 'last_layer_attn' (paper's raw attention).",
        RelevanceMethod.AttentionGradCam =>
            "Last block's CLS attention weighted per head by its mean gradient, clamped and min-max normalised, Transformer-Explainability Baselines.generate_cam_attn (paper's GradCAM).",
        RelevanceMethod.PartialLrp =>
            "Last block's head-mean clamped LRP relevance of the CLS attention row, Transformer-Explainability 'last_layer' (paper's partial LRP).",
        _ => throw new ArgumentOutOfRangeException(nameof(m), m, "Unknown relevance method."),
    };

    public static ContractTensors Needs(this RelevanceMethod m) => m switch
    {
        RelevanceMethod.TransformerAttribution => ContractTensors.AttentionGradient | ContractTensors.AttentionRelevance,
        RelevanceMethod.GenericAttention => ContractTensors.Attention | ContractTensors.AttentionGradient,
        RelevanceMethod.AttentionRollout => ContractTensors.Attention,
        RelevanceMethod.LrpRollout => ContractTensors.AttentionRelevance,
        RelevanceMethod.RawAttention => ContractTensors.Attention,
        RelevanceMethod.AttentionGradCam => ContractTensors.Attention | ContractTensors.AttentionGradient,
        RelevanceMethod.PartialLrp => ContractTensors.AttentionRelevance,
        _ => throw new ArgumentOutOfRangeException(nameof(m), m, "Unknown relevance method."),
    };

    /// <summary>
    /// How one layer's heads are reduced to an [N,N] map for this method (stage 1), or null for
    /// attention_gradcam, whose per-head weights are not an elementwise head reduction.
    /// </summary>
    public static HeadRule? HeadRule(this RelevanceMethod m) => m switch
    {
        RelevanceMethod.TransformerAttribution or RelevanceMethod.GenericAttention => Attribution.HeadRule.MeanClampedProduct,
        RelevanceMethod.LrpRollout or RelevanceMethod.PartialLrp or RelevanceMethod.RawAttention => Attribution.HeadRule.MeanClamped,
        RelevanceMethod.AttentionRollout => Attribution.HeadRule.Mean,
        _ => null,
    };

    /// <summary>True where the rollout divides each row of (Ā + I) by its sum (attention_rollout only).</summary>
    public static bool NormalizesRows(this RelevanceMethod m) => m == RelevanceMethod.AttentionRollout;
}
