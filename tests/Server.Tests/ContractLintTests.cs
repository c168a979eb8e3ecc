using System.ComponentModel;
using System.Diagnostics;
using Dermxai.TestSupport;

namespace Dermxai.Tests;

/// <summary>
/// The public contract passes `buf lint` (STANDARD rules, proto/buf.yaml) and `buf breaking` (FILE rules)
/// against the released v1 in proto/baseline/, with the buf version pinned in proto/package.json.
/// Node and npm are required: without them the test fails and says so.
/// </summary>
public sealed class ContractLintTests
{
    private static string ProtoFolder => Path.Combine(RepositoryPaths.Root, "proto");

    [Test]
    public void The_proto_passes_buf_lint()
    {
        var lint = Run(Buf(), "lint", TimeSpan.FromMinutes(2));
        TestContext.Out.WriteLine($"buf lint: exit {lint.Code}\n{lint.Output}");
        Assert.That(lint.Code, Is.EqualTo(0), lint.Output);
        Assert.That(lint.Output.Trim(), Is.Empty);
    }

    [Test]
    public void The_proto_keeps_every_promise_of_the_released_v1()
    {
        var breaking = Run(Buf(), "breaking --against baseline/dermxai-v1.binpb", TimeSpan.FromMinutes(2));
        TestContext.Out.WriteLine($"buf breaking: exit {breaking.Code}\n{breaking.Output}");
        Assert.That(breaking.Code, Is.EqualTo(0), breaking.Output);
        Assert.That(breaking.Output.Trim(), Is.Empty);
    }

    private static string Buf()
    {
        string buf = Path.Combine(ProtoFolder, "node_modules", ".bin", "buf");
        if (!File.Exists(buf))
        {
            var install = Run("npm", "ci --no-audit --no-fund", TimeSpan.FromMinutes(5));
            Assert.That(install.Code, Is.EqualTo(0), $"`npm ci` in proto/ failed:\n{install.Output}");
        }
        var version = Run(buf, "--version", TimeSpan.FromMinutes(1));
        Assert.That(version.Output.Trim(), Is.EqualTo("1.75.0"), "the pinned buf");
        return buf;
    }

    private static (int Code, string Output) Run(string program, string arguments, TimeSpan limit)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = ProtoFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try { process = Process.Start(start)!; }
        catch (Win32Exception e)
        {
            Assert.Fail($"`{program}` could not be started ({e.Message}): buf lint needs Node.js and npm on the PATH (Debian: apt-get install nodejs npm).");
            throw;
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(limit))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"`{program} {arguments}` did not finish within {limit.TotalSeconds} s.");
            }
            return (process.ExitCode, output.Result + error.Result);
        }
    }
}
