namespace Dermxai.Attribution;

/// <summary>The relevance methods Dermxai serves; each one's facts are its row in <see cref="MethodRegistry"/>.</summary>
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

/// <summary>The method parser and shorthand for the facts of a <see cref="RelevanceMethod"/> (its <see cref="MethodRegistry"/> row).</summary>
public static class RelevanceMethods
{
    private static readonly RelevanceMethod[] all = MethodRegistry.All.Select(d => d.Method).ToArray();

    public static IReadOnlyList<RelevanceMethod> All => all;

    public static RelevanceMethod Default => RelevanceMethod.TransformerAttribution;

    /// <summary>Every wire id, comma-separated, for messages that list the choices.</summary>
    public static string IdList { get; } = string.Join(", ", MethodRegistry.All.Select(d => d.Id));

    /// <summary>Parses a wire id (case-insensitive, surrounding whitespace ignored).</summary>
    public static bool TryParse(string? id, out RelevanceMethod m)
    {
        var wanted = id?.Trim();
        foreach (var descriptor in MethodRegistry.All)
        {
            if (string.Equals(descriptor.Id, wanted, StringComparison.OrdinalIgnoreCase))
            {
                m = descriptor.Method;
                return true;
            }
        }
        m = Default;
        return false;
    }

    public static RelevanceMethodDescriptor Descriptor(this RelevanceMethod m) => MethodRegistry.Of(m);

    /// <summary>The wire id, e.g. "transformer_attribution".</summary>
    public static string Id(this RelevanceMethod m) => MethodRegistry.Of(m).Id;

    public static string Description(this RelevanceMethod m) => MethodRegistry.Of(m).Description;

    /// <summary>False for raw attention and attention rollout: their map ignores the target class.</summary>
    public static bool IsClassSpecific(this RelevanceMethod m) => MethodRegistry.Of(m).ClassSpecific;

    /// <summary>
    /// True where the reference has a start_layer (docs/methods.md#start-layer); the other
    /// methods ignore the argument.
    /// </summary>
    public static bool UsesStartLayer(this RelevanceMethod m) => MethodRegistry.Of(m).UsesStartLayer;

    /// <summary>True where the map is a readout-row rollout over several layers (false: last block only).</summary>
    public static bool IsRollout(this RelevanceMethod m) => MethodRegistry.Of(m).IsRollout;

    public static ContractTensors Needs(this RelevanceMethod m) => MethodRegistry.Of(m).Needs;

    /// <summary>
    /// How one layer's heads are reduced to an [N,N] map for this method (stage 1), or null for
    /// attention_gradcam, whose per-head weights are not an elementwise head reduction.
    /// </summary>
    public static HeadRule? HeadRule(this RelevanceMethod m) => MethodRegistry.Of(m).HeadRule;

    /// <summary>True where the rollout divides each row of (Ā + I) by its sum (attention_rollout only).</summary>
    public static bool NormalizesRows(this RelevanceMethod m) => MethodRegistry.Of(m).NormalizesRows;
}
