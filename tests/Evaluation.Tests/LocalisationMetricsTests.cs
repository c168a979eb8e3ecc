using Dermxai.Evaluation;

namespace Dermxai.Evaluation.Tests;

/// <summary>The segmentation, AP, pointing and mass scores on tiny maps whose answers are worked out by hand.</summary>
public sealed class LocalisationMetricsTests
{
    [Test]
    public void ThresholdAtTheMeanGivesHandCountedPixelsAndIoU()
    {
        // mean 0.5 -> predicted foreground {0, 2}; truth {0, 1}.
        var counts = LocalisationMetrics.Segment([0.9f, 0.1f, 0.8f, 0.2f], [true, true, false, false]);

        Assert.Multiple(() =>
        {
            Assert.That(counts.Correct, Is.EqualTo(2));
            Assert.That(counts.Labelled, Is.EqualTo(4));
            Assert.That(counts.ForegroundIntersection, Is.EqualTo(1));
            Assert.That(counts.ForegroundUnion, Is.EqualTo(3));
            Assert.That(counts.BackgroundIntersection, Is.EqualTo(1));
            Assert.That(counts.BackgroundUnion, Is.EqualTo(3));
            Assert.That(counts.PixelAccuracy, Is.EqualTo(0.5));
            Assert.That(counts.MeanIoU, Is.EqualTo(1.0 / 3).Within(1e-12));
        });
    }

    [Test]
    public void ValuesEqualToTheMeanAreBackground()
    {
        // All equal: nothing is above the mean, so the whole map is background.
        var counts = LocalisationMetrics.Segment([0.5f, 0.5f, 0.5f, 0.5f], [true, false, false, false]);
        Assert.That(counts.Correct, Is.EqualTo(3));
        Assert.That(counts.ForegroundIntersection, Is.EqualTo(0));
        Assert.That(counts.BackgroundUnion, Is.EqualTo(4));
    }

    [Test]
    public void IoUIsAccumulatedOverTheDataSetNotAveragedPerImage()
    {
        // Image A: perfect 1-pixel lesion of 4. Image B: lesion missed entirely (map peaks elsewhere).
        var a = LocalisationMetrics.Segment([1f, 0f, 0f, 0f], [true, false, false, false]);
        var b = LocalisationMetrics.Segment([1f, 0f, 0f, 0f], [false, true, false, false]);
        var total = a + b;
        // fg: inter 1 + 0, union 1 + 2 -> 1/3; bg: inter 3 + 2, union 3 + 4 -> 5/7.
        Assert.That(total.MeanIoU, Is.EqualTo((1.0 / 3 + 5.0 / 7) / 2).Within(1e-12));
        Assert.That(total.PixelAccuracy, Is.EqualTo(6.0 / 8));
    }

    [Test]
    public void AveragePrecisionWithoutTies()
    {
        // Ranked T F T F: precision 1 at recall 0.5, 2/3 at recall 1.
        double ap = LocalisationMetrics.AveragePrecision([0.9f, 0.8f, 0.7f, 0.6f], [true, false, true, false]);
        Assert.That(ap, Is.EqualTo(0.5 * 1 + 0.5 * 2.0 / 3).Within(1e-12));
    }

    [Test]
    public void TiedScoresFormOneThreshold()
    {
        // {0.5: T, F} then {0.1: T}: precision 1/2 at recall 1/2, then 2/3 at recall 1 (sklearn's rule).
        double ap = LocalisationMetrics.AveragePrecision([0.5f, 0.5f, 0.1f], [true, false, true]);
        Assert.That(ap, Is.EqualTo(0.5 * 0.5 + 0.5 * 2.0 / 3).Within(1e-12));
    }

    [Test]
    public void TiesDoNotDependOnTheOrderOfEntries()
    {
        double forward = LocalisationMetrics.AveragePrecision([0.5f, 0.5f, 0.1f], [true, false, true]);
        double swapped = LocalisationMetrics.AveragePrecision([0.5f, 0.5f, 0.1f], [false, true, true]);
        Assert.That(swapped, Is.EqualTo(forward).Within(1e-12));
    }

    [Test]
    public void BothChannelApIsOneForAPerfectMapAndHandComputedOtherwise()
    {
        Assert.That(LocalisationMetrics.AveragePrecisionOfBothChannels([1f, 0f, 0f, 1f], [true, false, false, true]),
            Is.EqualTo(1.0).Within(1e-12));

        // map [1, 0.5, 0]; truth [T, F, F]. Entries: bg scores [0, 0.5, 1] truth [F, T, T], fg scores [1, 0.5, 0] truth [T, F, F].
        // Ranking: score 1 -> {bg2 T, fg0 T}: P 1, R 2/3; score 0.5 -> {bg1 T, fg1 F}: P 3/4, R 1; score 0 -> no new positive.
        double ap = LocalisationMetrics.AveragePrecisionOfBothChannels([1f, 0.5f, 0f], [true, false, false]);
        Assert.That(ap, Is.EqualTo(2.0 / 3 * 1 + 1.0 / 3 * 0.75).Within(1e-12));
    }

    [Test]
    public void PointingGameLooksAtTheMaximum()
    {
        Assert.That(LocalisationMetrics.PointingHit([0.1f, 0.7f, 0.2f], [false, true, false]), Is.True);
        Assert.That(LocalisationMetrics.PointingHit([0.1f, 0.7f, 0.9f], [false, true, false]), Is.False);
    }

    [Test]
    public void MassIsTheShareOfPositiveRelevanceInTheRegion()
    {
        Assert.That(LocalisationMetrics.Mass([1f, 2f, 3f, 4f], [false, false, false, true]), Is.EqualTo(0.4).Within(1e-12));
        Assert.That(LocalisationMetrics.Mass([-1f, 1f], [true, false]), Is.EqualTo(0.0));
        Assert.That(LocalisationMetrics.Mass([0f, 0f], [true, false]), Is.Null);
    }

    [Test]
    public void ScoreSplitsMassBetweenLesionArtifactsAndTheRest()
    {
        float[] map = [4f, 3f, 2f, 1f];
        var masks = new CroppedMasks([true, false, false, false], [false, true, false, false],
            new Dictionary<string, bool[]> { ["sticker"] = [false, true, false, false], ["ruler"] = [false, false, false, false] });

        var scores = LocalisationMetrics.Score(map, masks);

        Assert.Multiple(() =>
        {
            Assert.That(scores.LesionMass, Is.EqualTo(0.4).Within(1e-12));
            Assert.That(scores.ArtifactMass, Is.EqualTo(0.3).Within(1e-12));
            Assert.That(scores.OutsideMass, Is.EqualTo(0.3).Within(1e-12));
            Assert.That(scores.ArtifactMassByKind.Keys, Is.EquivalentTo(new[] { "sticker" }), "an artifact kind with an empty mask has no mass");
            Assert.That(scores.PointingHit, Is.True);
            Assert.That(scores.AveragePrecision, Is.Not.Null);
        });
    }

    [Test]
    public void MissingMasksGiveNullScores()
    {
        var scores = LocalisationMetrics.Score([1f, 0f], new CroppedMasks(null, [false, false], new Dictionary<string, bool[]>()));
        Assert.Multiple(() =>
        {
            Assert.That(scores.AveragePrecision, Is.Null);
            Assert.That(scores.PointingHit, Is.Null);
            Assert.That(scores.LesionMass, Is.Null);
            Assert.That(scores.ArtifactMass, Is.Null, "an empty artifact mask means no artifact");
        });
    }

    [Test]
    public void SummaryAveragesOnlyOverImagesThatHaveTheMask()
    {
        var withArtifact = LocalisationMetrics.Score([1f, 3f], new CroppedMasks([true, false], [false, true], new Dictionary<string, bool[]>()));
        var without = LocalisationMetrics.Score([1f, 1f], new CroppedMasks([true, false], [false, false], new Dictionary<string, bool[]>()));

        var summary = EvaluationSummary.Localisation([withArtifact, without])!;

        Assert.Multiple(() =>
        {
            Assert.That(summary.ImagesWithLesion, Is.EqualTo(2));
            Assert.That(summary.ImagesWithArtifacts, Is.EqualTo(1));
            Assert.That(summary.ArtifactMass, Is.EqualTo(0.75).Within(1e-12));
            Assert.That(summary.LesionMass, Is.EqualTo((0.25 + 0.5) / 2).Within(1e-12));
            Assert.That(summary.PointingGame, Is.EqualTo(0.5), "first image peaks off the lesion; the flat one peaks at index 0");
        });
    }
}
