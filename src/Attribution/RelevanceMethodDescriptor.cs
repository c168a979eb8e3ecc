namespace Dermxai.Attribution;

/// <summary>How a method turns what it reads into the g×g grid (stage 2, docs/methods.md).</summary>
public enum MapFold
{
    /// <summary>The readout rows folded through M_l = Ā_l + I, blocks s … L−1 (docs/methods.md#rollout-fold).</summary>
    Rollout,

    /// <summary><see cref="Rollout"/> with each row of Ā_l + I divided by its sum (attention rollout).</summary>
    RowNormalizedRollout,

    /// <summary>The last block's head-reduced readout rows, patch columns only.</summary>
    LastBlock,

    /// <summary>Last-block attention weighted per head by its mean gradient, min–max normalised (docs/methods.md#attention-gradcam).</summary>
    AttentionGradCam,
}

/// <summary>
/// Everything that sets one relevance method apart; the seven are listed in <see cref="MethodRegistry"/>.
/// <see cref="X"/> and <see cref="Y"/> are the contract tensors that feed the head rule's x and y
/// (attention_gradcam: the attention it weights and the gradient that gives the weights), so
/// <see cref="Needs"/>, the tensors the graph has to produce, follows from them.
/// </summary>
/// <param name="Id">The wire id, e.g. "transformer_attribution".</param>
/// <param name="ClassSpecific">False where the map ignores the target class.</param>
/// <param name="UsesStartLayer">True where the reference has a start_layer (docs/methods.md#start-layer).</param>
/// <param name="HeadRule">Stage 1, or null where the heads do not reduce elementwise (attention_gradcam).</param>
/// <param name="Summary">What the map is, in one phrase.</param>
/// <param name="Reference">The paper and reference code the map follows.</param>
public sealed record RelevanceMethodDescriptor(
    RelevanceMethod Method,
    string Id,
    bool ClassSpecific,
    bool UsesStartLayer,
    HeadRule? HeadRule,
    ContractTensors X,
    ContractTensors Y,
    MapFold Fold,
    string Summary,
    string Reference)
{
    public ContractTensors Needs => X | Y;

    public string Description => $"{Summary}, {Reference}.";

    /// <summary>True where the map is a readout-row rollout over several layers (false: last block only).</summary>
    public bool IsRollout => Fold is MapFold.Rollout or MapFold.RowNormalizedRollout;

    public bool NormalizesRows => Fold == MapFold.RowNormalizedRollout;
}
