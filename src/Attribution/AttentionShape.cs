namespace Dermxai.Attribution;

/// <summary>
/// Shape of the [L,B,H,N,N] attention contract tensors (N = 1 + g², CLS first). Construction
/// validates every dimension and throws <see cref="ArgumentException"/> with a sentence naming the
/// shape; <c>default</c> is invalid and is rejected where it is used.
/// </summary>
public readonly record struct AttentionShape(int Layers, int Batch, int Heads, int Tokens)
{
    public int Layers { get; } = Layers >= 1 ? Layers : throw Invalid("Layers (L) must be at least 1", Layers, Batch, Heads, Tokens);

    public int Batch { get; } = Batch >= 1 ? Batch
        : throw Invalid("the batch is empty: B must be at least 1", Layers, Batch, Heads, Tokens);

    public int Heads { get; } = Heads >= 1 ? Heads : throw Invalid("Heads (H) must be at least 1", Layers, Batch, Heads, Tokens);

    public int Tokens { get; } = SquareGridSide(Tokens) > 0 ? Tokens
        : throw Invalid("Tokens (N) must be 1 + g² (a CLS token plus a square g×g patch grid)", Layers, Batch, Heads, Tokens);

    /// <summary>g = sqrt(N − 1), the side of the patch grid.</summary>
    public int GridSide => SquareGridSide(Tokens);

    /// <summary>g², the number of values in one image's grid.</summary>
    public int GridCells => Tokens - 1;

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

    /// <summary>Throws if this is <c>default</c> or otherwise unvalidated.</summary>
    internal void EnsureValid()
    {
        if (Layers < 1 || Batch < 1 || Heads < 1 || SquareGridSide(Tokens) < 1)
        {
            throw Invalid("the shape is not initialised", Layers, Batch, Heads, Tokens);
        }
    }

    private static int SquareGridSide(int tokens)
    {
        if (tokens < 2)
        {
            return 0;
        }
        int side = (int)Math.Round(Math.Sqrt(tokens - 1));
        return side * side == tokens - 1 ? side : 0;
    }

    private static ArgumentException Invalid(string problem, int layers, int batch, int heads, int tokens) =>
        new($"Attention tensors attn/attn_grad/attn_rel must be [L,B,H,N,N]; {problem} (got [{layers},{batch},{heads},{tokens},{tokens}]).");
}
