namespace Dermxai.Client.Tests.Unit;

/// <summary>bench's refused option combinations: exit code 2 and a sentence, before any call (no server listens).</summary>
public sealed class BenchSettingsTests
{
    private static Task<CliRun> BenchAsync(params string[] options) =>
        CliRun.RunAsync(["bench", "--server", "http://127.0.0.1:9", "--image", TestPaths.GoldenImages[0], .. options]);

    [TestCase(new[] { "--requests", "5", "--duration", "2s" }, "Give --requests or --duration, not both")]
    [TestCase(new[] { "--requests", "5", "--rps", "10" }, "--requests counts the calls of a closed loop")]
    [TestCase(new[] { "--requests", "0" }, "--requests must be >= 1")]
    [TestCase(new[] { "--warmup-requests", "1", "--warmup", "1s" }, "Give --warmup-requests or --warmup, not both")]
    [TestCase(new[] { "--warmup-requests", "1", "--rps", "10" }, "--warmup-requests warms up a closed loop")]
    [TestCase(new[] { "--warmup-requests", "-1", "--requests", "3" }, "--warmup-requests must be >= 0")]
    public async Task Refused_combinations_say_why(string[] options, string reason)
    {
        var run = await BenchAsync(options);

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.Error, Does.Contain(reason));
    }
}
