using Dermxai.Attribution;

namespace Dermxai.Evaluation;

/// <summary>Which class a map explains in the perturbation test: the model's top class or the label.</summary>
internal enum ExplainedClass { Predicted, Target }

/// <summary>
/// Correct (argmax == label) and the predicted class at every step of one perturbation curve, index 0 =
/// the clean image.
/// </summary>
internal sealed record PerturbationOutcome(PerturbationMode Mode, ExplainedClass Explained, bool[] Correct, int[] Predicted);

/// <summary>One method's scores on one image.</summary>
internal sealed record MethodImageScores(LocalisationScores? Localisation, IReadOnlyList<PerturbationOutcome> Perturbation);

/// <summary>Everything measured on one image; groups are formed from these afterwards.</summary>
internal sealed record ImageEvaluation(
    EvaluationItem Item,
    int Predicted,
    IReadOnlyDictionary<RelevanceMethod, MethodImageScores> Methods)
{
    public bool Correct => Predicted == Item.Label;
}
