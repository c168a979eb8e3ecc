namespace Dermxai.Attribution.Tests;

public class MethodCatalogTests
{
    [Test]
    public void IdsRoundTrip()
    {
        foreach (var method in RelevanceMethods.All)
        {
            Assert.That(RelevanceMethods.TryParse(method.Id(), out var parsed), Is.True);
            Assert.That(parsed, Is.EqualTo(method));
            Assert.That(method.Description(), Is.Not.Empty);
        }
        Assert.That(RelevanceMethods.TryParse("gradcam++", out _), Is.False);
        Assert.That(RelevanceMethods.Default.Id(), Is.EqualTo("transformer_attribution"));
    }

    [Test]
    public void ClassAgnosticMethodsAreRawAttentionAndRollout()
    {
        var agnostic = RelevanceMethods.All.Where(m => !m.IsClassSpecific());
        Assert.That(agnostic, Is.EquivalentTo(new[] { RelevanceMethod.RawAttention, RelevanceMethod.AttentionRollout }));
    }

    /// <summary>Class-agnostic methods read no gradient or relevance (the class enters only through those).</summary>
    [Test]
    public void ClassAgnosticMethodsNeedOnlyAttention()
    {
        foreach (var method in RelevanceMethods.All.Where(m => !m.IsClassSpecific()))
        {
            Assert.That(method.Needs(), Is.EqualTo(ContractTensors.Attention), method.Id());
        }
    }
}
