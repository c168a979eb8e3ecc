using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Dermxai.Engine;
using Dermxai.Protocol.V1;
using Dermxai.Server;
using Google.Protobuf;
using Grpc.Core;

namespace Dermxai.Hardening.Tests.Fuzz;

/// <summary>What one case got: a gRPC status (with its sentence and, for Explain, the viewed size), or a crash or hang.</summary>
internal sealed record FuzzOutcome(StatusCode? Status, string Detail, (int Width, int Height)? ViewedSize = null)
{
    internal TimeSpan Elapsed { get; init; }

    internal bool IsCrash => Status is null;
    internal string Label => Status?.ToString() ?? Detail.Split(':')[0];

    /// <summary>Why this outcome breaks the case's contract, or null when it keeps it.</summary>
    internal string? Violation(FuzzCase c)
    {
        if (Status is not { } status) return Detail;
        if (!c.Allowed.Contains(status)) return $"{status} not in [{string.Join(", ", c.Allowed)}]: {Truncated(Detail)}";
        if (status != StatusCode.OK && c.DetailMustContain is { } words && !Detail.Contains(words, StringComparison.Ordinal))
            return $"message '{Truncated(Detail)}' lacks '{words}'";
        if (status == StatusCode.OK && c.ViewedSize is { } expected && ViewedSize != expected)
            return $"viewed size {ViewedSize} instead of {expected}";
        return null;
    }

    private static string Truncated(string text) => text.Length <= 160 ? text : text[..160] + "…";
}

/// <summary>Runs cases in-process against the engine (the server's own mapping code in front) or over gRPC, each with its own time limit.</summary>
internal static class FuzzRunner
{
    internal static readonly TimeSpan PerCaseLimit = TimeSpan.FromSeconds(60);

    /// <summary>The engine path a gRPC call takes, without the socket: ProtoMapping, then the engine.</summary>
    internal static async Task<FuzzOutcome> InProcessAsync(DermxaiEngine engine, IMessage request)
    {
        var run = Task.Run(async () =>
        {
            switch (request)
            {
                case ClassifyRequest classify:
                    await engine.ClassifyAsync(ProtoMapping.ToImageSource(classify.Image), classify.HasTopK ? classify.TopK : null);
                    return new FuzzOutcome(StatusCode.OK, "");
                case ExplainRequest explain:
                    var result = await engine.ExplainAsync(ProtoMapping.ToImageSource(explain.Image), ProtoMapping.ToExplainOptions(explain));
                    return new FuzzOutcome(StatusCode.OK, "", (result.ImageWidth, result.ImageHeight));
                default:
                    throw new ArgumentException(request.Descriptor.Name);
            }
        });
        try
        {
            return await run.WaitAsync(PerCaseLimit);
        }
        catch (TimeoutException) { return new FuzzOutcome(null, $"Hang: no answer within {PerCaseLimit.TotalSeconds} s"); }
        catch (EngineException e)
        {
            var status = e.Kind switch
            {
                EngineErrorKind.InvalidArgument => StatusCode.InvalidArgument,
                EngineErrorKind.TooLarge or EngineErrorKind.QueueFull => StatusCode.ResourceExhausted,
                _ => StatusCode.Unavailable,
            };
            return new FuzzOutcome(status, e.Message);
        }
        catch (Exception e) { return new FuzzOutcome(null, $"Crash: {e.GetType().Name}: {e.Message} {e.StackTrace?.Split('\n')[0].Trim()}"); }
    }

    internal static async Task<FuzzOutcome> OverGrpcAsync(Protocol.V1.DermxaiService.DermxaiServiceClient client, IMessage request)
    {
        var deadline = DateTime.UtcNow + PerCaseLimit;
        try
        {
            switch (request)
            {
                case ClassifyRequest classify:
                    await client.ClassifyAsync(classify, deadline: deadline);
                    return new FuzzOutcome(StatusCode.OK, "");
                case ExplainRequest explain:
                    var response = await client.ExplainAsync(explain, deadline: deadline);
                    return new FuzzOutcome(StatusCode.OK, "", (response.ImageWidth, response.ImageHeight));
                default:
                    throw new ArgumentException(request.Descriptor.Name);
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
        {
            return new FuzzOutcome(null, $"Hang: no answer within {PerCaseLimit.TotalSeconds} s");
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Internal or StatusCode.Unknown)
        {
            return new FuzzOutcome(null, $"Crash: {e.StatusCode}: {e.Status.Detail}");
        }
        catch (RpcException e) { return new FuzzOutcome(e.StatusCode, e.Status.Detail); }
    }

    /// <summary>Runs every case (a few at a time) and collects outcomes in case order.</summary>
    internal static async Task<FuzzReport> RunAllAsync(IReadOnlyList<FuzzCase> cases, Func<IMessage, Task<FuzzOutcome>> run, int parallelism)
    {
        var outcomes = new FuzzOutcome[cases.Count];
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, cases.Count), new ParallelOptions { MaxDegreeOfParallelism = parallelism },
            async (i, _) =>
            {
                long start = Stopwatch.GetTimestamp();
                outcomes[i] = await run(cases[i].Request) with { Elapsed = Stopwatch.GetElapsedTime(start) };
            });
        return new FuzzReport(cases, outcomes, clock.Elapsed);
    }
}

/// <summary>The counts the issue asks for: cases, outcome histogram, per-category histogram, violations, time.</summary>
internal sealed record FuzzReport(IReadOnlyList<FuzzCase> Cases, IReadOnlyList<FuzzOutcome> Outcomes, TimeSpan Elapsed)
{
    internal IReadOnlyList<string> Violations =>
        Cases.Select((c, i) => (c, v: Outcomes[i].Violation(c))).Where(x => x.v is not null)
            .Select(x => $"#{x.c.Id} {x.c.Category}: {x.v}").ToArray();

    internal int Crashes => Outcomes.Count(o => o.IsCrash);

    internal string Summary(string title)
    {
        var text = new StringBuilder();
        text.AppendLine($"{title}: {Cases.Count} cases in {Elapsed.TotalSeconds:F1} s, {Crashes} crashes/hangs, {Violations.Count} contract violations");
        foreach (var (label, n) in Outcomes.GroupBy(o => o.Label).OrderByDescending(g => g.Count()).Select(g => (g.Key, g.Count())))
            text.AppendLine($"  {label,-18} {n,6}");
        text.AppendLine("  by category (prefix):");
        var byCategory = new ConcurrentDictionary<string, Dictionary<string, int>>();
        for (int i = 0; i < Cases.Count; i++)
        {
            var counts = byCategory.GetOrAdd(Cases[i].Category.Split(':')[0], _ => []);
            counts[Outcomes[i].Label] = counts.GetValueOrDefault(Outcomes[i].Label) + 1;
        }
        foreach (var (category, counts) in byCategory.OrderBy(kv => kv.Key))
            text.AppendLine($"  {category,-22} {string.Join(", ", counts.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}"))}"
                + $" (case time summed over the parallel runners: {Cases.Select((c, i) => (c, i)).Where(x => x.c.Category.Split(':')[0] == category).Sum(x => Outcomes[x.i].Elapsed.TotalSeconds):F1} s)");
        text.AppendLine("  slowest cases:");
        foreach (var i in Enumerable.Range(0, Cases.Count).OrderByDescending(i => Outcomes[i].Elapsed).Take(8))
            text.AppendLine($"  #{Cases[i].Id} {Cases[i].Category} {Outcomes[i].Label} {Outcomes[i].Elapsed.TotalMilliseconds:F0} ms");
        return text.ToString();
    }
}
