namespace Dermxai.Attribution;

/// <summary>
/// Which token rows of the last block feed the classifier head, and so which rows of the final relevance
/// matrix (or of the last block's tensors) a map explains. Every readout is the uniform mean of a
/// contiguous run of rows (<see cref="AttentionShape.ReadoutRows"/>). Prefix tokens are the P tokens in
/// front of the g×g patch grid, in timm's order [class, distillation, registers].
/// </summary>
public enum Readout
{
    /// <summary>Row 0, the class token: the head reads x[:, 0] (timm <c>global_pool='token'</c>; needs P ≥ 1).</summary>
    Class,

    /// <summary>
    /// Mean of rows 0 and 1: distilled DeiT averages the class head on x[:, 0] and the distillation head
    /// on x[:, 1], so both tokens explain the logits equally (needs P ≥ 2).
    /// </summary>
    ClassDistillation,

    /// <summary>
    /// Mean of the g² patch rows P … N−1: global average pooling over the patches, prefix tokens excluded
    /// (timm <c>global_pool='avg'</c> with prefix tokens, fc_norm models).
    /// </summary>
    MeanPatches,

    /// <summary>Mean of all N rows: pooling over every token, as in models without a class token.</summary>
    MeanTokens,
}

/// <summary>Metadata ids of <see cref="Readout"/> ("class", "class_dist", "mean_patches", "mean_tokens").</summary>
public static class Readouts
{
    private static readonly Readout[] all = Enum.GetValues<Readout>();

    public static IReadOnlyList<Readout> All => all;

    /// <summary>The id as exported in the model metadata key <c>readout</c>.</summary>
    public static string Id(this Readout readout) => readout switch
    {
        Readout.Class => "class",
        Readout.ClassDistillation => "class_dist",
        Readout.MeanPatches => "mean_patches",
        Readout.MeanTokens => "mean_tokens",
        _ => throw new ArgumentOutOfRangeException(nameof(readout), readout, "Unknown readout."),
    };

    /// <summary>Parses a metadata id (case-insensitive, surrounding whitespace ignored).</summary>
    public static bool TryParse(string? id, out Readout readout)
    {
        string? wanted = id?.Trim();
        int index = Array.FindIndex(all, candidate => string.Equals(candidate.Id(), wanted, StringComparison.OrdinalIgnoreCase));
        readout = index >= 0 ? all[index] : Readout.Class;
        return index >= 0;
    }

    /// <summary>The fewest prefix tokens the readout needs: the class token, or the class and distillation tokens.</summary>
    public static int MinimumPrefixTokens(this Readout readout) => readout switch
    {
        Readout.Class => 1,
        Readout.ClassDistillation => 2,
        _ => 0,
    };
}
