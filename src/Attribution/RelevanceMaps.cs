using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.ExceptionServices;

namespace Dermxai.Attribution;

/// <summary>
/// Relevance maps for a batch: contract tensors [L,B,H,N,N] → one g×g grid of raw relevance per image
/// (row-major patch order, equal to the reference's output vector before upsampling/normalisation).
/// Each map explains the shape's <see cref="Readout"/> rows where the reference explains the CLS row, and
/// covers the patch columns P … N−1 only: prefix tokens never appear on the grid.
/// Images are independent. Allocation-free per call except for the parallel path of large batches.
/// </summary>
public static class RelevanceMaps
{
    /// <summary>Batches whose work exceeds this many bytes read run in parallel across images.</summary>
    internal const long ParallelBytesThreshold = 8L << 20;

    /// <summary>
    /// Computes <paramref name="method"/> for every image. <paramref name="attn"/>, <paramref name="attnGrad"/>,
    /// <paramref name="attnRel"/>: [L,B,H,N,N] float32 row-major (empty for tensors the method does not
    /// need, see <see cref="RelevanceMethods.Needs"/>); <paramref name="grids"/>: [B, g·g] output.
    /// <paramref name="startLayer"/> must be in [0, L); methods without one (<see cref="RelevanceMethods.UsesStartLayer"/>)
    /// ignore it. NaN/Inf is detected in every value the method reads (layers below startLayer and, for
    /// the last layer, rows other than the readout rows do not influence the map and are not read).
    /// Throws <see cref="ArgumentException"/> naming the tensor and its expected shape.
    /// </summary>
    public static void Compute(RelevanceMethod method, AttentionShape shape,
        ReadOnlySpan<float> attn, ReadOnlySpan<float> attnGrad, ReadOnlySpan<float> attnRel,
        int startLayer, Span<float> grids)
    {
        Validate(method, shape, attn, attnGrad, attnRel, startLayer, grids);
        var descriptor = MethodRegistry.Of(method);
        int effectiveStart = descriptor.UsesStartLayer ? startLayer : 0;
        if (!ShouldRunParallel(descriptor, shape, effectiveStart))
        {
            for (int image = 0; image < shape.Batch; image++)
            {
                ComputeImage(descriptor, shape, attn, attnGrad, attnRel, effectiveStart, image, Grid(grids, shape, image));
            }
            return;
        }
        ComputeParallel(descriptor, shape, attn, attnGrad, attnRel, effectiveStart, grids);
    }

    /// <summary>
    /// The path for graphs that reduce heads themselves: <paramref name="reducedMaps"/> is [L,B,N,N] with
    /// Ā_l = the method's head mean (<see cref="RelevanceMethods.HeadRule"/>), so only stage 2 (the readout
    /// rollout, or the last layer's readout rows) runs here. <c>shape.Heads</c> is ignored. Not available for
    /// attention_gradcam (its per-head weights are no elementwise head reduction).
    /// </summary>
    public static void ComputeFromReducedMaps(RelevanceMethod method, AttentionShape shape, ReadOnlySpan<float> reducedMaps,
        int startLayer, Span<float> grids)
    {
        shape.EnsureValid();
        var descriptor = MethodRegistry.Of(method);
        if (descriptor.HeadRule is null)
        {
            throw new ArgumentException($"{descriptor.Id} cannot be computed from head-reduced maps; it needs attn and attn_grad {shape.Describe()}.", nameof(method));
        }
        var reducedShape = shape.WithHeads(1);
        var layout = new Layout("L,B,N,N", shape.Layers, shape.Batch, shape.Tokens, shape.Tokens);
        ContractValidation.RequireLength("reducedMaps", reducedMaps, reducedShape.TensorLength, layout);
        ContractValidation.RequireStartLayer(startLayer, shape);
        RequireGrids(grids, shape);
        int effectiveStart = descriptor.UsesStartLayer ? startLayer : 0;
        for (int image = 0; image < shape.Batch; image++)
        {
            var rows = new ReducedRows(reducedMaps, reducedShape, image);
            var grid = Grid(grids, shape, image);
            bool finite = descriptor.IsRollout
                ? ClsRollout.FoldWithScratch(ref rows, shape, effectiveStart, descriptor.NormalizesRows, grid)
                : LastBlockReadout.Compute(ref rows, shape, headCount: 1, grid);
            if (!finite || !rows.AllFinite)
            {
                throw new ArgumentException($"reducedMaps contains NaN or Inf (image {image}); expected finite float32 values in {layout}.", nameof(reducedMaps));
            }
        }
    }

    /// <summary>Checks logits [B,C] (finite) and targets [B] (each in [0, C)) of a contract batch.</summary>
    public static void ValidateClassifierOutputs(ReadOnlySpan<float> logits, ReadOnlySpan<long> targets, int batch, int classes)
    {
        if (batch < 1)
        {
            throw new ArgumentException($"The batch is empty: logits must be [B,C] with B ≥ 1 (got B = {batch}).", nameof(batch));
        }
        if (classes < 1)
        {
            throw new ArgumentException($"logits must be [B,C] with C ≥ 1 classes (got C = {classes}).", nameof(classes));
        }
        ContractValidation.RequireLength("logits", logits, (long)batch * classes, new Layout("B,C", batch, classes));
        if (!TensorPrimitives.IsFiniteAll(logits))
        {
            throw new ArgumentException($"logits contains NaN or Inf; expected finite float32 values in [B,C] = [{batch},{classes}].", nameof(logits));
        }
        if (targets.Length != batch)
        {
            throw new ArgumentException($"target has {targets.Length} values; expected [B] = [{batch}] class indices.", nameof(targets));
        }
        for (int image = 0; image < batch; image++)
        {
            if ((ulong)targets[image] >= (ulong)classes)
            {
                throw new ArgumentException(
                    $"target[{image}] = {targets[image]} is out of range; expected a class index in [0, C) = [0, {classes}) for logits [B,C] = [{batch},{classes}].",
                    nameof(targets));
            }
        }
    }

    private static void Validate(RelevanceMethod method, AttentionShape shape, ReadOnlySpan<float> attn,
        ReadOnlySpan<float> attnGrad, ReadOnlySpan<float> attnRel, int startLayer, Span<float> grids)
    {
        if (!Enum.IsDefined(method))
        {
            throw new ArgumentException($"Unknown relevance method {(int)method}.", nameof(method));
        }
        shape.EnsureValid();
        ContractValidation.RequireContractTensor(method, ContractTensors.Attention, attn, shape);
        ContractValidation.RequireContractTensor(method, ContractTensors.AttentionGradient, attnGrad, shape);
        ContractValidation.RequireContractTensor(method, ContractTensors.AttentionRelevance, attnRel, shape);
        ContractValidation.RequireStartLayer(startLayer, shape);
        RequireGrids(grids, shape);
    }

    private static void RequireGrids(Span<float> grids, AttentionShape shape) =>
        ContractValidation.RequireLength("grids", grids, (long)shape.Batch * shape.GridCells,
            new Layout("B, g*g", shape.Batch, shape.GridCells));

    private static Span<float> Grid(Span<float> grids, AttentionShape shape, int image) =>
        grids.Slice(image * shape.GridCells, shape.GridCells);

    private static void ComputeImage(RelevanceMethodDescriptor method, AttentionShape shape, ReadOnlySpan<float> attn,
        ReadOnlySpan<float> attnGrad, ReadOnlySpan<float> attnRel, int startLayer, int image, Span<float> grid)
    {
        bool finite = method.Fold switch
        {
            MapFold.AttentionGradCam => AttentionGradCam.Compute(shape, attn, attnGrad, image, grid),
            MapFold.LastBlock => LastBlock(method, shape, attn, attnGrad, attnRel, image, grid),
            _ => Rollout(method, shape, attn, attnGrad, attnRel, startLayer, image, grid),
        };
        if (!finite)
        {
            throw ContractValidation.LocateNonFinite(method.Method, shape, image, attn, attnGrad, attnRel);
        }
    }

    private static bool Rollout(RelevanceMethodDescriptor method, AttentionShape shape, ReadOnlySpan<float> attn,
        ReadOnlySpan<float> attnGrad, ReadOnlySpan<float> attnRel, int startLayer, int image, Span<float> grid)
    {
        var rows = HeadRowsOf(method, shape, attn, attnGrad, attnRel, image);
        bool foldFinite = ClsRollout.FoldWithScratch(ref rows, shape, startLayer, method.NormalizesRows, grid);
        return foldFinite && rows.AllFinite;
    }

    /// <summary>The last-block methods: the head rule of X_{L-1} averaged over the readout rows, columns P … N−1.</summary>
    private static bool LastBlock(RelevanceMethodDescriptor method, AttentionShape shape, ReadOnlySpan<float> attn,
        ReadOnlySpan<float> attnGrad, ReadOnlySpan<float> attnRel, int image, Span<float> grid)
    {
        var rows = HeadRowsOf(method, shape, attn, attnGrad, attnRel, image);
        return LastBlockReadout.Compute(ref rows, shape, shape.Heads, grid);
    }

    private static HeadRows HeadRowsOf(RelevanceMethodDescriptor method, AttentionShape shape, ReadOnlySpan<float> attn,
        ReadOnlySpan<float> attnGrad, ReadOnlySpan<float> attnRel, int image) =>
        new(method.HeadRule!.Value, Pick(method.X, attn, attnGrad, attnRel), Pick(method.Y, attn, attnGrad, attnRel), shape, image);

    private static ReadOnlySpan<float> Pick(ContractTensors tensor, ReadOnlySpan<float> attn,
        ReadOnlySpan<float> attnGrad, ReadOnlySpan<float> attnRel) => tensor switch
    {
        ContractTensors.Attention => attn,
        ContractTensors.AttentionGradient => attnGrad,
        ContractTensors.AttentionRelevance => attnRel,
        _ => default,
    };

    internal static bool ShouldRunParallel(RelevanceMethod method, AttentionShape shape, int startLayer) =>
        ShouldRunParallel(MethodRegistry.Of(method), shape, startLayer);

    private static bool ShouldRunParallel(RelevanceMethodDescriptor method, AttentionShape shape, int startLayer)
    {
        if (shape.Batch < 2 || Environment.ProcessorCount < 2 || !method.IsRollout)
        {
            return false;
        }
        int tensors = BitOperations.PopCount((uint)method.Needs);
        long bytesPerImage = (long)(shape.Layers - startLayer) * shape.ImageLayerStride * sizeof(float) * tensors;
        return bytesPerImage * shape.Batch >= ParallelBytesThreshold;
    }

    private static unsafe void ComputeParallel(RelevanceMethodDescriptor method, AttentionShape shape,
        ReadOnlySpan<float> attn, ReadOnlySpan<float> attnGrad, ReadOnlySpan<float> attnRel, int startLayer, Span<float> grids)
    {
        fixed (float* attnPtr = attn, gradPtr = attnGrad, relPtr = attnRel, gridPtr = grids)
        {
            var inputs = new PinnedInputs((nint)attnPtr, attn.Length, (nint)gradPtr, attnGrad.Length,
                (nint)relPtr, attnRel.Length, (nint)gridPtr, grids.Length);
            try
            {
                Parallel.For(0, shape.Batch, image =>
                {
                    var grid = new Span<float>((void*)inputs.Grids, inputs.GridsLength);
                    ComputeImage(method, shape, inputs.Span(inputs.Attn, inputs.AttnLength),
                        inputs.Span(inputs.Grad, inputs.GradLength), inputs.Span(inputs.Rel, inputs.RelLength),
                        startLayer, image, Grid(grid, shape, image));
                });
            }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0 && e.InnerExceptions[0] is ArgumentException)
            {
                ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            }
        }
    }

    /// <summary>Addresses of spans pinned for the duration of a Parallel.For (spans cannot be captured).</summary>
    private readonly record struct PinnedInputs(nint Attn, int AttnLength, nint Grad, int GradLength, nint Rel, int RelLength,
        nint Grids, int GridsLength)
    {
        public unsafe ReadOnlySpan<float> Span(nint address, int length) => new((void*)address, length);
    }
}
