namespace Dermxai.Attribution;

/// <summary>How a layer's H heads are reduced to one [N,N] map (stage 1 of a relevance method).</summary>
public enum HeadRule
{
    /// <summary>mean_h(x) — attention rollout's Ā (no clamp, as Baselines.generate_rollout).</summary>
    Mean,

    /// <summary>mean_h(max(0, x)) — LRP rollout, partial LRP, raw attention.</summary>
    MeanClamped,

    /// <summary>mean_h(max(0, x ⊙ y)) — transformer attribution (∇A ⊙ R_A), generic attention (∇A ⊙ A).</summary>
    MeanClampedProduct,
}
