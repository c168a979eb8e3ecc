using Dermxai.Client.Explain;
using Dermxai.Client.Inputs;
using Dermxai.Protocol.V1;

namespace Dermxai.Client.Tests.Unit;

public sealed class ArgumentParsingTests
{
    [TestCase("predicted", TargetSpec.KindOneofCase.Predicted)]
    [TestCase("top-k:3", TargetSpec.KindOneofCase.TopClasses)]
    [TestCase("4", TargetSpec.KindOneofCase.ClassIndex)]
    [TestCase("melanoma", TargetSpec.KindOneofCase.ClassLabel)]
    [TestCase("class 1", TargetSpec.KindOneofCase.ClassLabel)]
    public void Targets_parse_to_their_kind(string text, TargetSpec.KindOneofCase kind) =>
        Assert.That(TargetParser.Parse(text).KindCase, Is.EqualTo(kind));

    [Test]
    public void Target_values_are_kept()
    {
        Assert.That(TargetParser.Parse("top-k:3").TopClasses, Is.EqualTo(3));
        Assert.That(TargetParser.Parse("4").ClassIndex, Is.EqualTo(4));
        Assert.That(TargetParser.Parse("Basal cell").ClassLabel, Is.EqualTo("Basal cell"));
    }

    [TestCase("top-k:0")]
    [TestCase("top-k:x")]
    public void Bad_top_k_is_refused(string text) => Assert.Throws<FormatException>(() => TargetParser.Parse(text));

    [TestCase("10s", 10_000)]
    [TestCase("5", 5_000)]
    [TestCase("0.5", 500)]
    [TestCase("250ms", 250)]
    [TestCase("2m", 120_000)]
    public void Durations_parse_like_ghz(string text, double milliseconds) =>
        Assert.That(DurationText.Parse(text).TotalMilliseconds, Is.EqualTo(milliseconds));

    [TestCase("ten")]
    [TestCase("5 parsecs")]
    [TestCase("-1s")]
    public void Bad_durations_are_refused(string text) => Assert.Throws<FormatException>(() => DurationText.Parse(text));

    [Test]
    public void Outputs_parse_from_comma_lists()
    {
        Assert.That(OutputSelection.Parse(ListOption.Split(["overlay,grid"])), Is.EqualTo(new OutputSelection(true, false, true)));
        Assert.That(OutputSelection.Parse(ListOption.Split(["heatmap", " overlay "])), Is.EqualTo(new OutputSelection(true, true, false)));
        Assert.Throws<FormatException>(() => OutputSelection.Parse(["overlays"]));
    }

    [Test]
    public void Explain_requests_carry_every_option()
    {
        var request = new ExplainRequests(["generic_attention", "lrp_rollout"], [TargetParser.Parse("top-k:2")], 1, 3, "turbo", 0.7f, 0.2f)
            .Create(Google.Protobuf.ByteString.CopyFromUtf8("img"), overlay: true, heatmap: false, clientTag: "a");

        Assert.That(request.Methods, Is.EqualTo(new[] { "generic_attention", "lrp_rollout" }));
        Assert.That(request.Targets.Single().TopClasses, Is.EqualTo(2));
        Assert.That(request.HasStartLayer && request.StartLayer == 1, Is.True);
        Assert.That((request.TopK, request.Outputs.IncludeOverlayPng, request.Outputs.IncludeHeatmapPng, request.Outputs.Colormap), Is.EqualTo((3, true, false, Colormap.Turbo)));
        Assert.That((request.Outputs.OverlayAlpha, request.FaithfulnessFraction, request.ClientTag), Is.EqualTo((0.7f, 0.2f, "a")));
        Assert.That(new ExplainRequests([], [], null, 0).Create(Google.Protobuf.ByteString.Empty, false, false).HasStartLayer, Is.False);
    }
}
