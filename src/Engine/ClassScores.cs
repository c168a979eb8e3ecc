namespace Dermxai.Engine;

/// <summary>Softmax scores of one image's logits: a class's score and the top-k differential.</summary>
internal static class ClassScores
{
    internal static IReadOnlyList<ClassScore> Differential(double[] logits, int k, ModelDescription model) =>
        Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).Take(k).Select(i => Score(logits, i, model)).ToArray();

    internal static ClassScore Score(double[] logits, int index, ModelDescription model)
    {
        double max = logits.Max(), sum = 0;
        foreach (double l in logits) sum += Math.Exp(l - max);
        return new ClassScore(index, model.Labels[index], (float)(Math.Exp(logits[index] - max) / sum), (float)logits[index]);
    }
}
