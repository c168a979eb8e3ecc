namespace Dermxai.Attribution;

/// <summary>Argument checks whose messages name the tensor and the shape it must have.</summary>
internal static class ContractValidation
{
    public const string AttnName = "attn";
    public const string AttnGradName = "attn_grad";
    public const string AttnRelName = "attn_rel";

    public static string NameOf(ContractTensors tensor) => tensor switch
    {
        ContractTensors.Attention => AttnName,
        ContractTensors.AttentionGradient => AttnGradName,
        ContractTensors.AttentionRelevance => AttnRelName,
        _ => tensor.ToString(),
    };

    public static void RequireLength(string name, ReadOnlySpan<float> values, long expected, Layout layout)
    {
        if (values.Length != expected)
        {
            throw new ArgumentException($"{name} has {values.Length} values; expected {layout} = {expected} float32 values.", name);
        }
    }

    /// <summary>A tensor the method needs must have the full [L,B,H,N,N] length; others may be empty or full.</summary>
    public static void RequireContractTensor(RelevanceMethod method, ContractTensors tensor, ReadOnlySpan<float> values,
        AttentionShape shape)
    {
        string name = NameOf(tensor);
        bool needed = method.Needs().HasFlag(tensor);
        if (needed && values.IsEmpty)
        {
            throw new ArgumentException($"{method.Id()} needs {name} {shape.Describe()}, but {name} is empty.", name);
        }
        if (!values.IsEmpty)
        {
            RequireLength(name, values, shape.TensorLength, Layout.Of(shape));
        }
    }

    public static void RequireStartLayer(int startLayer, AttentionShape shape)
    {
        if ((uint)startLayer >= (uint)shape.Layers)
        {
            throw new ArgumentException(
                $"startLayer {startLayer} is out of range: the attention tensors {shape.Describe()} have layers 0..{shape.Layers - 1}.",
                nameof(startLayer));
        }
    }

    public static ArgumentException NonFinite(string name, AttentionShape shape, int image, int layer) =>
        new($"{name} contains NaN or Inf (image {image}, layer {layer}); expected finite float32 values in {shape.Describe()}.", name);

    /// <summary>Finds which needed tensor holds the non-finite value the probe saw (error path only).</summary>
    public static ArgumentException LocateNonFinite(RelevanceMethod method, AttentionShape shape, int image,
        ReadOnlySpan<float> attn, ReadOnlySpan<float> attnGrad, ReadOnlySpan<float> attnRel)
    {
        var needs = method.Needs();
        for (int layer = shape.Layers - 1; layer >= 0; layer--)
        {
            int start = (int)shape.Offset(layer, image);
            if (needs.HasFlag(ContractTensors.Attention) && !AllFinite(attn.Slice(start, shape.ImageLayerStride)))
            {
                return NonFinite(AttnName, shape, image, layer);
            }
            if (needs.HasFlag(ContractTensors.AttentionGradient) && !AllFinite(attnGrad.Slice(start, shape.ImageLayerStride)))
            {
                return NonFinite(AttnGradName, shape, image, layer);
            }
            if (needs.HasFlag(ContractTensors.AttentionRelevance) && !AllFinite(attnRel.Slice(start, shape.ImageLayerStride)))
            {
                return NonFinite(AttnRelName, shape, image, layer);
            }
        }
        return new ArgumentException(
            $"The product of the inputs of {method.Id()} overflows float32 for image {image}; expected finite values in {shape.Describe()}.");
    }

    private static bool AllFinite(ReadOnlySpan<float> values) => System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(values);
}

/// <summary>
/// A tensor layout such as "[L,B,H,N,N] = [12,1,12,197,197]", kept as numbers and formatted only when an
/// error message needs it (so that validation allocates nothing on the hot path).
/// </summary>
internal readonly record struct Layout(string Axes, int D0, int D1 = -1, int D2 = -1, int D3 = -1, int D4 = -1)
{
    public static Layout Of(AttentionShape shape) =>
        new("L,B,H,N,N", shape.Layers, shape.Batch, shape.Heads, shape.Tokens, shape.Tokens);

    public override string ToString()
    {
        int[] dims = [D0, D1, D2, D3, D4];
        return $"[{Axes}] = [{string.Join(",", dims.Where(d => d >= 0))}]";
    }
}
