namespace Dermxai.Attribution;

/// <summary>
/// Shape of the [L,B,H,N,N] attention contract tensors and their token layout: N = P + g², the P prefix
/// tokens (class, distillation, registers, in timm's order) first, then the g×g patch grid row-major.
/// <see cref="Readout"/> names the token rows that feed the classifier head. The defaults (P = 1, class
/// readout) are the classic ViT. Construction validates every dimension and throws
/// <see cref="ArgumentException"/> with a sentence naming the shape; <c>default</c> is invalid and is
/// rejected where it is used.
/// </summary>
public readonly record struct AttentionShape(int Layers, int Batch, int Heads, int Tokens, int PrefixTokens = 1,
    Readout Readout = Readout.Class)
{
    public int Layers { get; } = Layers >= 1 ? Layers : throw Invalid("Layers (L) must be at least 1", Layers, Batch, Heads, Tokens);

    public int Batch { get; } = Batch >= 1 ? Batch
        : throw Invalid("the batch is empty: B must be at least 1", Layers, Batch, Heads, Tokens);

    public int Heads { get; } = Heads >= 1 ? Heads : throw Invalid("Heads (H) must be at least 1", Layers, Batch, Heads, Tokens);

    public int PrefixTokens { get; } = PrefixTokens >= 0 ? PrefixTokens
        : throw Invalid($"the prefix token count P must be 0 or more, got {PrefixTokens}", Layers, Batch, Heads, Tokens);

    public int Tokens { get; } = SquareGridSide(Tokens, PrefixTokens) > 0 ? Tokens
        : throw Invalid($"Tokens (N) must be {PrefixTokens} + g² ({PrefixTokens} prefix tokens plus a square g×g patch grid)",
            Layers, Batch, Heads, Tokens);

    /// <summary>The token rows the logits read; it must fit the prefix tokens (see <see cref="Readouts.MinimumPrefixTokens"/>).</summary>
    public Readout Readout { get; } = ReadoutProblem(Readout, PrefixTokens) is not { } problem ? Readout
        : throw Invalid(problem, Layers, Batch, Heads, Tokens);

    /// <summary>g = sqrt(N − P), the side of the patch grid.</summary>
    public int GridSide => SquareGridSide(Tokens, PrefixTokens);

    /// <summary>g², the number of values in one image's grid (token columns P … N−1).</summary>
    public int GridCells => Tokens - PrefixTokens;

    /// <summary>
    /// The rows the readout averages, as a contiguous run: class [0, 1), class_dist [0, 2), mean_patches
    /// [P, N), mean_tokens [0, N). Each row weighs 1/Count.
    /// </summary>
    public (int First, int Count) ReadoutRows => Readout switch
    {
        Readout.Class => (0, 1),
        Readout.ClassDistillation => (0, 2),
        Readout.MeanPatches => (PrefixTokens, GridCells),
        _ => (0, Tokens),
    };

    /// <summary>N², the values of one head's attention matrix.</summary>
    public int HeadStride => Tokens * Tokens;

    /// <summary>H·N², the values of one image in one layer.</summary>
    public int ImageLayerStride => Heads * HeadStride;

    /// <summary>B·H·N², the values of one layer for the whole batch.</summary>
    public long LayerStride => (long)Batch * ImageLayerStride;

    /// <summary>L·B·H·N², the length of each contract tensor.</summary>
    public long TensorLength => Layers * LayerStride;

    /// <summary>Offset of image <paramref name="image"/>'s H heads in layer <paramref name="layer"/>.</summary>
    public long Offset(int layer, int image) => ((long)layer * Batch + image) * ImageLayerStride;

    /// <summary>"[L,B,H,N,N] = [12,1,12,197,197]", for error messages.</summary>
    public string Describe() => $"[L,B,H,N,N] = [{Layers},{Batch},{Heads},{Tokens},{Tokens}]";

    /// <summary>The same shape and token layout with another head count (head-reduced maps have one).</summary>
    public AttentionShape WithHeads(int heads) => new(Layers, Batch, heads, Tokens, PrefixTokens, Readout);

    /// <summary>Throws if this is <c>default</c> or otherwise unvalidated.</summary>
    internal void EnsureValid()
    {
        if (Layers < 1 || Batch < 1 || Heads < 1 || PrefixTokens < 0 || SquareGridSide(Tokens, PrefixTokens) < 1
            || ReadoutProblem(Readout, PrefixTokens) is not null)
        {
            throw Invalid("the shape is not initialised", Layers, Batch, Heads, Tokens);
        }
    }

    private static int SquareGridSide(int tokens, int prefixTokens)
    {
        int cells = tokens - prefixTokens;
        if (cells < 1 || prefixTokens < 0)
        {
            return 0;
        }
        int side = (int)Math.Round(Math.Sqrt(cells));
        return side * side == cells ? side : 0;
    }

    private static string? ReadoutProblem(Readout readout, int prefixTokens)
    {
        if (!Enum.IsDefined(readout))
        {
            return $"the readout {(int)readout} is unknown";
        }
        int needed = readout.MinimumPrefixTokens();
        return prefixTokens >= needed ? null
            : $"the readout '{readout.Id()}' needs at least {needed} prefix token{(needed == 1 ? "" : "s")}, but P = {prefixTokens}";
    }

    private static ArgumentException Invalid(string problem, int layers, int batch, int heads, int tokens) =>
        new($"Attention tensors attn/attn_grad/attn_rel must be [L,B,H,N,N]; {problem} (got [{layers},{batch},{heads},{tokens},{tokens}]).");
}
