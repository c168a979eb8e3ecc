namespace Dermxai.Engine;

/// <summary>
/// One request's share of a graph run: its image ([3·S·S], float[] or double[]), the classes its target
/// rows explain (-1 = the image's argmax; empty for a logits-only run) and the outputs its maps read.
/// </summary>
internal sealed record GraphJob(Array Pixels, long[] Targets, IReadOnlyCollection<string> Outputs)
{
    /// <summary>Batch rows the job takes (the batcher's weight): its target rows, at least one.</summary>
    public int Rows => Math.Max(1, Targets.Length);
}

/// <summary>
/// Jobs of concurrent requests assembled into one run: B images, R target rows (target_image[r] = the
/// image row r explains) and, per job, where its images and target rows lie.
/// </summary>
internal sealed class GraphBatch
{
    public required Array Pixels { get; init; }
    public required int Images { get; init; }
    public required long[] Targets { get; init; }
    public required long[] TargetImage { get; init; }
    public required IReadOnlyList<string> Outputs { get; init; }
    public required (int First, int Count)[] ImageRanges { get; init; }
    public required (int First, int Count)[] RowRanges { get; init; }

    /// <summary>
    /// One image per job where the graph takes target_image (its forward pass runs once for all of the
    /// job's targets); otherwise, or with <paramref name="imagePerRow"/>, one copy of the image per target
    /// row as file sets without target_image need (target_image is then 0 … R−1 where the graph takes it).
    /// </summary>
    internal static GraphBatch Build(IReadOnlyList<GraphJob> jobs, OnnxGraph graph, bool imagePerRow, bool float64)
    {
        bool perRow = graph.TakesTargets && (imagePerRow || !graph.TakesTargetImage);
        var imageOfRow = new List<Array>();
        var targets = new List<long>();
        var targetImage = new List<long>();
        var imageRanges = new (int, int)[jobs.Count];
        var rowRanges = new (int, int)[jobs.Count];
        for (int j = 0; j < jobs.Count; j++)
        {
            long[] rows = !graph.TakesTargets ? [] : jobs[j].Targets.Length > 0 ? jobs[j].Targets : [-1];
            int firstImage = imageOfRow.Count;
            rowRanges[j] = (targets.Count, rows.Length);
            foreach (long target in rows)
            {
                if (perRow) imageOfRow.Add(jobs[j].Pixels);
                targets.Add(target);
                targetImage.Add(perRow ? imageOfRow.Count - 1 : firstImage);
            }
            if (!perRow) imageOfRow.Add(jobs[j].Pixels);
            imageRanges[j] = (firstImage, imageOfRow.Count - firstImage);
        }
        return new GraphBatch
        {
            Pixels = Concat(imageOfRow, float64),
            Images = imageOfRow.Count,
            Targets = targets.ToArray(),
            TargetImage = targetImage.ToArray(),
            Outputs = jobs.SelectMany(j => j.Outputs).Distinct().ToArray(),
            ImageRanges = imageRanges,
            RowRanges = rowRanges,
        };
    }

    private static Array Concat(List<Array> images, bool float64)
    {
        int size = images[0].Length;
        if (float64)
        {
            var all = new double[images.Count * size];
            for (int i = 0; i < images.Count; i++) ((double[])images[i]).CopyTo(all, i * size);
            return all;
        }
        var floats = new float[images.Count * size];
        for (int i = 0; i < images.Count; i++) ((float[])images[i]).CopyTo(floats, i * size);
        return floats;
    }
}
