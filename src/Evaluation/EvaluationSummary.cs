using Dermxai.Attribution;
using Dermxai.Engine;

namespace Dermxai.Evaluation;

/// <summary>Turns per-image measurements into the report's groups (all, per skin tone, per background).</summary>
internal static class EvaluationSummary
{
    internal const string Positive = "positive", Negative = "negative", Predicted = "predicted", Target = "target";

    internal static EvaluationReport Build(DermxaiEngine engine, EvaluationDataset dataset, EvaluationSettings settings,
        IReadOnlyList<RelevanceMethod> methods, IReadOnlyList<ImageEvaluation> images, IReadOnlyList<string> skipped, double seconds)
    {
        var labels = engine.Model.Labels;
        var groups = new List<GroupSummary> { Group("all", "all", images, methods, labels) };
        foreach (var tone in images.Select(i => i.Item.SkinTone).OfType<string>().Distinct().OrderBy(t => t, StringComparer.Ordinal))
            groups.Add(Group("skin_tone", tone, images.Where(i => i.Item.SkinTone == tone).ToArray(), methods, labels));
        foreach (var background in images.Select(i => i.Item.Background).OfType<string>().Distinct().OrderBy(b => b, StringComparer.Ordinal))
            groups.Add(Group("background", background, images.Where(i => i.Item.Background == background).ToArray(), methods, labels));
        return new EvaluationReport
        {
            ModelPath = engine.Options.ModelPath,
            ModelSha256 = engine.Model.ModelSha256,
            Architecture = engine.Model.Architecture,
            ImageSize = engine.Model.ImageSize,
            DataPath = dataset.Root,
            DataFormat = dataset.Format,
            StartLayer = settings.StartLayer,
            ExplainedClass = settings.ExplainClass,
            Methods = methods.Select(m => m.Id()).ToArray(),
            Skipped = skipped.ToArray(),
            Groups = groups,
            Seconds = seconds,
            PerImage = images.Select(i => Record(i, labels)).ToArray(),
        };
    }

    internal static GroupSummary Group(string dimension, string value, IReadOnlyList<ImageEvaluation> images,
        IReadOnlyList<RelevanceMethod> methods, IReadOnlyList<string> labels)
    {
        double clean = images.Count == 0 ? double.NaN : images.Count(i => i.Correct) / (double)images.Count;
        var summaries = methods.Select(m => new MethodSummary(m.Id(),
            Localisation(images.Select(i => i.Methods[m].Localisation).OfType<LocalisationScores>().ToArray()),
            Curves(images.Select(i => i.Methods[m].Perturbation).ToArray(), labels))).ToArray();
        return new GroupSummary(dimension, value, images.Count, clean, summaries);
    }

    internal static LocalisationSummary? Localisation(IReadOnlyList<LocalisationScores> scores)
    {
        if (scores.Count == 0) return null;
        var withLesion = scores.Where(s => s.AveragePrecision is not null).ToArray();
        var counts = withLesion.Aggregate(default(SegmentationCounts), (sum, s) => sum + s.Segmentation);
        var byKind = scores.SelectMany(s => s.ArtifactMassByKind).GroupBy(kv => kv.Key)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new KindMass(g.Count(), g.Average(kv => kv.Value)));
        var artifactMasses = scores.Select(s => s.ArtifactMass).OfType<double>().ToArray();
        return new LocalisationSummary(
            withLesion.Length,
            withLesion.Length == 0 ? null : counts.PixelAccuracy,
            withLesion.Length == 0 ? null : counts.MeanIoU,
            Mean(withLesion.Select(s => s.AveragePrecision)),
            Mean(scores.Select(s => s.PointingHit is null ? (double?)null : s.PointingHit.Value ? 1 : 0)),
            Mean(scores.Select(s => s.LesionMass)),
            Mean(scores.Select(s => s.OutsideMass)),
            artifactMasses.Length,
            artifactMasses.Length == 0 ? null : artifactMasses.Average(),
            byKind);
    }

    internal static IReadOnlyList<PerturbationCurve> Curves(IReadOnlyList<IReadOnlyList<PerturbationOutcome>> perImage,
        IReadOnlyList<string> labels)
    {
        var curves = new List<PerturbationCurve>();
        foreach (var mode in Enum.GetValues<PerturbationMode>())
        foreach (var explained in Enum.GetValues<ExplainedClass>())
        {
            var outcomes = perImage.SelectMany(list => list).Where(o => o.Mode == mode && o.Explained == explained).ToArray();
            if (outcomes.Length == 0) continue;
            var accuracy = new double[PerturbationTest.Steps];
            var top = new string[PerturbationTest.Steps];
            var share = new double[PerturbationTest.Steps];
            for (int step = 0; step < accuracy.Length; step++)
            {
                accuracy[step] = outcomes.Count(o => o.Correct[step]) / (double)outcomes.Length;
                var commonest = outcomes.GroupBy(o => o.Predicted[step]).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First();
                top[step] = labels[commonest.Key];
                share[step] = commonest.Count() / (double)outcomes.Length;
            }
            curves.Add(new PerturbationCurve(ModeName(mode), ClassName(explained), outcomes.Length, PerturbationTest.Fractions,
                accuracy, PerturbationTest.Auc(accuracy), top, share));
        }
        return curves;
    }

    internal static string ModeName(PerturbationMode mode) => mode == PerturbationMode.Positive ? Positive : Negative;

    internal static string ClassName(ExplainedClass explained) => explained == ExplainedClass.Predicted ? Predicted : Target;

    private static double? Mean(IEnumerable<double?> values)
    {
        var present = values.OfType<double>().ToArray();
        return present.Length == 0 ? null : present.Average();
    }

    private static ImageRecord Record(ImageEvaluation image, IReadOnlyList<string> labels) => new(
        image.Item.Name,
        labels[image.Item.Label],
        labels[image.Predicted],
        image.Item.SkinTone,
        image.Item.Background,
        image.Item.Artifacts.Select(a => a.Kind).ToArray(),
        image.Methods.ToDictionary(kv => kv.Key.Id(), kv => MethodRecord(kv.Value)));

    private static ImageMethodRecord MethodRecord(MethodImageScores scores)
    {
        double? Auc(PerturbationMode mode) => scores.Perturbation
            .Where(o => o.Mode == mode && o.Explained == ExplainedClass.Predicted)
            .Select(o => (double?)PerturbationTest.Auc(o.Correct.Select(c => c ? 1.0 : 0.0).ToArray()))
            .FirstOrDefault();
        var l = scores.Localisation;
        return new ImageMethodRecord(l?.PointingHit, l?.AveragePrecision, l?.LesionMass, l?.ArtifactMass,
            l?.ArtifactMassByKind ?? new Dictionary<string, double>(), Auc(PerturbationMode.Positive), Auc(PerturbationMode.Negative));
    }
}
