using System.Diagnostics;
using Dermxai.Server;

namespace Dermxai.Tests;

/// <summary>The real <c>dermxai-server</c> entry point, run as a process: --help and bad options end it at once.</summary>
public sealed class CommandLineTests
{
    private sealed record Exit(int Code, string Out, string Error);

    /// <summary>Runs dermxai-server.dll (built beside the tests); a server that starts serving is killed and fails the test.</summary>
    private static async Task<Exit> RunServerAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(typeof(DermxaiServerApp).Assembly.Location);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dermxai-server {string.Join(' ', args)} did not exit (it started serving?)");
        }
        var exit = new Exit(process.ExitCode, await output, await error);
        TestContext.Out.WriteLine($"exit {exit.Code}\n--- stdout\n{exit.Out}--- stderr\n{exit.Error}");
        return exit;
    }

    [TestCase("--help")]
    [TestCase("-h")]
    public async Task Help_lists_every_option_with_a_default_and_exits_0(string flag)
    {
        var exit = await RunServerAsync(flag);
        Assert.That(exit.Code, Is.EqualTo(0));
        var lines = exit.Out.Split('\n');
        foreach (var option in ServerCommandLine.Switches)
        {
            var line = lines.SingleOrDefault(l => l.TrimStart().StartsWith(option.Name + " ", StringComparison.Ordinal));
            Assert.That(line, Does.Contain("(default: "), option.Name);
        }
        Assert.That(exit.Out, Does.Contain("--model PATH").And.Contain("default: models/default/model.onnx")
            .And.Contain("default: http://127.0.0.1:5000").And.Contain("--Dermxai:KEY=VALUE"));
        Assert.That(exit.Error, Is.Empty);
    }

    [Test]
    public async Task An_unknown_option_is_named_and_exits_2_without_serving()
    {
        var exit = await RunServerAsync("--modle", "x");
        Assert.That(exit.Code, Is.EqualTo(2));
        Assert.That(exit.Error, Does.Contain("unknown option '--modle'"));
        Assert.That(exit.Out, Is.Empty);
    }

    [TestCase(new[] { "--model" }, "option '--model' needs a value")]
    [TestCase(new[] { "model.onnx" }, "unexpected argument 'model.onnx'")]
    [TestCase(new[] { "-x" }, "unexpected argument '-x'")]
    public void Other_unusable_command_lines_are_refused_with_a_sentence(string[] args, string sentence) =>
        Assert.That(ServerCommandLine.Problem(args), Does.StartWith(sentence));

    [Test]
    public void Switches_configuration_keys_and_equals_forms_are_accepted() =>
        Assert.That(ServerCommandLine.Problem(
            ["--model", "m.onnx", "--URLS=http://h:1", "--metrics-url", "", "--Dermxai:MaxImageBytes=5", "--Logging:LogLevel:Default", "Warning"]), Is.Null);
}
