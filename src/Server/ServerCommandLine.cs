using System.Globalization;
using System.Text;

namespace Dermxai.Server;

/// <summary>
/// The command line of <c>dermxai-server</c>: the switches (one table for the configuration mapping and
/// for --help), the help text, and the check that refuses unknown options before the host starts
/// (the configuration binder would otherwise ignore a misspelt switch and serve with the defaults).
/// </summary>
public static class ServerCommandLine
{
    /// <summary>Exit code of a command line that cannot be run (unknown option, missing value).</summary>
    public const int UsageError = 2;

    /// <summary>A switch, the setting it sets (null: read by the host itself), its help line and its default.</summary>
    internal sealed record Switch(string Name, string Value, string? Setting, string Description, Func<ServerOptions, object?> Default);

    internal static readonly IReadOnlyList<Switch> Switches =
    [
        new("--model", "PATH", "Dermxai:Model", "contract-v1 ONNX model (relative: working dir, then repo root)", o => o.Model),
        new("--forward-model", "PATH", "Dermxai:ForwardModel", "forward graph (Classify, rankings, faithfulness; raw_attention and attention_rollout where it outputs attn)", o => o.ForwardModel ?? "MODEL.forward.onnx when present"),
        new("--device", Engine.EngineDevices.Choices, "Dermxai:Device", "where ONNX Runtime runs (auto: CUDA if it loads, else CPU)", o => o.Device),
        new("--urls", "URLS", null, "gRPC endpoints, ';'-separated; host localhost, an IP, [IPv6], *, + or a name (https: needs Dermxai:Tls)", _ => ServerOptions.DefaultUrls),
        new("--metrics-url", "URL", "Dermxai:MetricsUrl", "Prometheus endpoint (/metrics); empty disables it", o => o.MetricsUrl),
        new("--viewer", "true|false", "Dermxai:Viewer:Enabled", "serve the clinicians' viewer (and the JSON routes) on --viewer-url", _ => false),
        new("--viewer-url", "URL", "Dermxai:Viewer:Url", "the viewer's HTTP/1.1 endpoint", _ => Viewer.ViewerOptions.DefaultUrl),
        new("--max-batch-size", "N", "Dermxai:MaxBatchSize", "rows per ONNX Runtime run, formed from concurrent requests", o => o.MaxBatchSize),
        new("--max-queue-delay-ms", "MS", "Dermxai:MaxQueueDelayMs", "longest wait for a batch to fill", o => o.MaxQueueDelayMs),
        new("--max-queue-size", "N", "Dermxai:MaxQueueSize", "rows waiting; beyond it calls get RESOURCE_EXHAUSTED", o => o.MaxQueueSize),
        new("--arena-keep-rows", "N", "Dermxai:ArenaKeepRows", "runs of at most N rows keep ONNX Runtime's CPU arena (faster); larger runs give memory back", o => o.ArenaKeepRows),
        new("--intra-op-threads", "N", "Dermxai:IntraOpThreads", "CPU threads per ONNX Runtime run (0: ONNX Runtime's choice)", o => o.IntraOpThreads),
        new("--require-model", "true|false", "Dermxai:RequireModel", "false: start without a model (UNAVAILABLE, health NOT_SERVING)", o => o.RequireModel),
        new("--json-logs", "true|false", "Dermxai:JsonLogs", "structured JSON log lines", o => o.JsonLogs),
        new("--environment", "NAME", null, "host environment (appsettings.NAME.json)", _ => "Production"),
    ];

    private static readonly string[] HelpSwitches = ["-h", "--help"];

    /// <summary>The switch → setting mappings for <c>AddCommandLine</c>.</summary>
    internal static Dictionary<string, string> Mappings() =>
        Switches.Where(s => s.Setting is not null).ToDictionary(s => s.Name, s => s.Setting!);

    /// <summary>The entry point: help, a usage error, or the server until it stops.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, Action<string[]> serve)
    {
        if (args.Any(a => HelpSwitches.Contains(a, StringComparer.Ordinal)))
        {
            output.Write(Help());
            return 0;
        }
        if (Problem(args) is { } problem)
        {
            error.WriteLine($"dermxai-server: {problem}");
            error.WriteLine("Run 'dermxai-server --help' for the options.");
            return UsageError;
        }
        serve(args);
        return 0;
    }

    /// <summary>The help text: every option with its value, one line of meaning and its default.</summary>
    public static string Help()
    {
        var defaults = new ServerOptions();
        var rows = Switches.Select(s => ($"{s.Name} {s.Value}", $"{s.Description} (default: {Show(s.Default(defaults))})"))
            .Append(("--Dermxai:KEY=VALUE", "any setting of src/Server/README.md, e.g. --Dermxai:MaxImageBytes=10000000"))
            .Append(("-h, --help", "print this help and exit"))
            .ToList();
        int width = rows.Max(r => r.Item1.Length) + 2;
        var text = new StringBuilder()
            .AppendLine("Usage: dermxai-server [OPTIONS]")
            .AppendLine()
            .AppendLine("Serves Dermxai over gRPC (classifications and relevance maps of a Vision Transformer).")
            .AppendLine("Settings come, later winning, from appsettings.json, DERMXAI__* environment variables and these options.")
            .AppendLine()
            .AppendLine("Options:");
        foreach (var (option, meaning) in rows) text.Append("  ").Append(option.PadRight(width)).AppendLine(meaning);
        return text.ToString();
    }

    /// <summary>
    /// The first thing wrong with a command line, or null. Accepted: the switches above as
    /// <c>--name value</c> or <c>--name=value</c>, and configuration keys (<c>--Section:Key=value</c>).
    /// </summary>
    internal static string? Problem(IReadOnlyList<string> args)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
                return $"unexpected argument '{Shorten(arg)}' (options start with --).";
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            string name = equals < 0 ? arg : arg[..equals];
            bool known = name.Contains(':', StringComparison.Ordinal)
                || Switches.Any(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
            if (!known) return $"unknown option '{Shorten(name)}'.";
            if (equals >= 0) continue;
            if (i + 1 >= args.Count) return $"option '{Shorten(name)}' needs a value.";
            i++;
        }
        return null;
    }

    private static string Show(object? value) => value switch
    {
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? "",
    };

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
