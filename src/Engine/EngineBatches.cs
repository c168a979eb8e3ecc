using Dermxai.Attribution;

namespace Dermxai.Engine;

/// <summary>A photo decoded and preprocessed exactly as a request's photo is.</summary>
/// <param name="Pixels">The model's input [3, S, S], normalised: float[] for float32 models, double[] for float64 models.</param>
/// <param name="PhotoWidth">The photo as viewed (after EXIF orientation), in pixels.</param>
/// <param name="PhotoHeight">The photo as viewed, in pixels.</param>
/// <param name="Crop">The part of the photo that the model sees.</param>
public sealed record PreparedPhoto(Array Pixels, int PhotoWidth, int PhotoHeight, CropRegion Crop);

/// <summary>One image's full-graph run: its logits, the class its maps explain, one patch grid per method.</summary>
/// <param name="Grids">Per method, the raw G×G patch relevance (row-major), as an Explain call returns it.</param>
public sealed record BatchMaps(double[] Logits, int Target, IReadOnlyDictionary<RelevanceMethod, float[]> Grids);

/// <summary>
/// Whole batches on a loaded engine, run at once and not through the request batcher: for offline
/// tools (the evaluation) that drive many images from one caller. Thread-safe like the engine.
/// </summary>
public static class EngineBatches
{
    /// <summary>Decodes (within the engine's image limits) and preprocesses one JPEG or PNG.</summary>
    /// <exception cref="EngineException">The image is refused (format, size, dimensions).</exception>
    public static PreparedPhoto Prepare(this DermxaiEngine engine, ReadOnlyMemory<byte> encoded, CancellationToken cancel = default)
    {
        using var photo = new ImageDecoder(engine.Options.ImageLimits).Decode(encoded, cancel);
        var prepared = Preprocessor.Prepare(photo, engine.Model);
        return new PreparedPhoto(prepared.Pixels, photo.Width, photo.Height, prepared.Crop);
    }

    /// <summary>
    /// One run of the full graph over the batch, then the maps of every method for each row.
    /// <paramref name="targets"/> holds one class per row; -1 explains the row's predicted class.
    /// <paramref name="startLayer"/> is the first block of the rollout methods.
    /// </summary>
    public static BatchMaps[] ExplainBatch(this DermxaiEngine engine, IReadOnlyList<Array> pixels, IReadOnlyList<int> targets,
        IReadOnlyList<RelevanceMethod> methods, int startLayer)
    {
        if (targets.Count != pixels.Count) throw new ArgumentException($"{pixels.Count} images but {targets.Count} targets.", nameof(targets));
        foreach (int target in targets)
            if (target < -1 || target >= engine.Model.NumClasses)
                throw new ArgumentOutOfRangeException(nameof(targets), target, $"Classes are 0 to {engine.Model.NumClasses - 1}, or -1 for the predicted one.");
        CheckPixels(engine.Model, pixels);
        var distinct = methods.Distinct().ToArray();
        return engine.ExplainDirect(pixels, targets.Select(t => (long)t).ToArray(), distinct, startLayer)
            .Select(row => new BatchMaps(row.Job.Logits, (int)row.Job.Targets[0],
                distinct.Select((m, i) => (m, grid: row.Grids[i])).ToDictionary(p => p.m, p => p.grid)))
            .ToArray();
    }

    /// <summary>The logits of every row, from one run of the forward-only graph (the full graph when there is none).</summary>
    public static double[][] ClassifyBatch(this DermxaiEngine engine, IReadOnlyList<Array> pixels)
    {
        CheckPixels(engine.Model, pixels);
        return engine.RunForward(pixels).Select(row => row.Logits).ToArray();
    }

    private static void CheckPixels(ModelDescription model, IReadOnlyList<Array> pixels)
    {
        if (pixels.Count == 0) throw new ArgumentException("The batch is empty.", nameof(pixels));
        int length = 3 * model.ImageSize * model.ImageSize;
        var type = model.IsFloat64 ? typeof(double[]) : typeof(float[]);
        foreach (var row in pixels)
            if (row.GetType() != type || row.Length != length)
                throw new ArgumentException($"Each image must be a {type.Name} of {length} values (3×{model.ImageSize}×{model.ImageSize}).", nameof(pixels));
    }
}
