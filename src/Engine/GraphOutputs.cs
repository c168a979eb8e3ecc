using Microsoft.ML.OnnxRuntime;

namespace Dermxai.Engine;

/// <summary>A layered output's slice for one job: [Layers, Rows, RowLength] float32, row-major.</summary>
internal sealed record LayeredTensor(float[] Data, int Layers, int Rows, int RowLength)
{
    /// <summary>Rows first … first+count−1 of every layer, or each layer's single row repeated count times.</summary>
    public LayeredTensor Take(int first, int count)
    {
        if (first == 0 && count == Rows) return this;
        bool repeat = Rows == 1;
        var data = GC.AllocateUninitializedArray<float>(Layers * count * RowLength);
        for (int l = 0; l < Layers; l++)
        for (int r = 0; r < count; r++)
            Data.AsSpan((l * Rows + (repeat ? 0 : first + r)) * RowLength, RowLength).CopyTo(data.AsSpan((l * count + r) * RowLength));
        return new LayeredTensor(data, Layers, count, RowLength);
    }
}

/// <summary>
/// What one job gets back from a run: its image's logits, its target rows' resolved classes and its slices
/// of the layered outputs (per-image outputs hold the job's images, per-target outputs its target rows).
/// </summary>
internal sealed class JobOutputs
{
    public required double[] Logits { get; init; }
    public required long[] Targets { get; init; }
    public required IReadOnlyDictionary<string, LayeredTensor> Tensors { get; init; }

    public float[]? Data(string name) => Tensors.TryGetValue(name, out var tensor) ? tensor.Data : null;
}

/// <summary>The per-image outputs of one batch row in contract-v1 form (attention tensors [L, 1, H, N, N]).</summary>
internal sealed class RowOutputs
{
    public required double[] Logits { get; init; }
    public required long Target { get; init; }
    public float[]? Attn { get; init; }
    public float[]? AttnGrad { get; init; }
    public float[]? AttnRel { get; init; }

    internal static RowOutputs From(JobOutputs job) => new()
    {
        Logits = job.Logits,
        Target = job.Targets.Length > 0 ? job.Targets[0] : OnnxGraph.ArgMax(job.Logits),
        Attn = job.Data(OnnxGraph.AttnOutput),
        AttnGrad = job.Data(OnnxGraph.AttnGradOutput),
        AttnRel = job.Data(OnnxGraph.AttnRelOutput),
    };
}

internal static class GraphOutputs
{
    /// <summary>Cuts a run's outputs into the jobs' shares (one copy, float64 outputs cast to float32).</summary>
    internal static JobOutputs[] Split(GraphBatch batch, List<string> names, IReadOnlyList<OrtValue> results, bool float64)
    {
        var logits = ToDouble(results[0], float64);
        int classes = logits.Length / batch.Images;
        int targetIndex = names.IndexOf(OnnxGraph.TargetOutput);
        var resolved = targetIndex >= 0 ? results[targetIndex].GetTensorDataAsSpan<long>().ToArray() : null;
        var jobs = new JobOutputs[batch.ImageRanges.Length];
        var tensors = new Dictionary<string, LayeredTensor>[jobs.Length];
        for (int j = 0; j < jobs.Length; j++) tensors[j] = [];
        for (int i = 0; i < names.Count; i++)
        {
            if (names[i] is OnnxGraph.LogitsOutput or OnnxGraph.TargetOutput) continue;
            var ranges = GraphMaps.IsPerImage(names[i]) ? batch.ImageRanges : batch.RowRanges;
            var parts = SplitLayered(results[i], ranges, float64);
            for (int j = 0; j < jobs.Length; j++) tensors[j][names[i]] = parts[j];
        }
        for (int j = 0; j < jobs.Length; j++)
        {
            var jobLogits = logits.AsSpan(batch.ImageRanges[j].First * classes, classes).ToArray();
            var (first, count) = batch.RowRanges[j];
            var targets = new long[count];
            for (int r = 0; r < count; r++)
                targets[r] = resolved?[first + r] ?? (batch.Targets[first + r] >= 0 ? batch.Targets[first + r] : OnnxGraph.ArgMax(jobLogits));
            jobs[j] = new JobOutputs { Logits = jobLogits, Targets = targets, Tensors = tensors[j] };
        }
        return jobs;
    }

    private static double[] ToDouble(OrtValue value, bool float64)
    {
        if (float64) return value.GetTensorDataAsSpan<double>().ToArray();
        var f = value.GetTensorDataAsSpan<float>();
        var d = new double[f.Length];
        for (int i = 0; i < f.Length; i++) d[i] = f[i];
        return d;
    }

    /// <summary>[L, total, …] → one [L, count, …] float32 tensor per range.</summary>
    private static LayeredTensor[] SplitLayered(OrtValue value, (int First, int Count)[] ranges, bool float64)
    {
        var shape = value.GetTensorTypeAndShape().Shape;
        int layers = (int)shape[0], total = (int)shape[1];
        int rowLength = 1;
        for (int axis = 2; axis < shape.Length; axis++) rowLength = checked(rowLength * (int)shape[axis]);
        var parts = new LayeredTensor[ranges.Length];
        for (int j = 0; j < ranges.Length; j++)
        {
            var (first, count) = ranges[j];
            var data = GC.AllocateUninitializedArray<float>(layers * count * rowLength);
            for (int l = 0; l < layers; l++)
            {
                int from = (l * total + first) * rowLength, length = count * rowLength;
                var to = data.AsSpan(l * length, length);
                if (float64)
                {
                    var src = value.GetTensorDataAsSpan<double>().Slice(from, length);
                    for (int i = 0; i < length; i++) to[i] = (float)src[i];
                }
                else value.GetTensorDataAsSpan<float>().Slice(from, length).CopyTo(to);
            }
            parts[j] = new LayeredTensor(data, layers, count, rowLength);
        }
        return parts;
    }
}
