using System.ComponentModel;
using Dermxai.Engine;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Evaluation.Cli;

internal sealed class EvaluateSettings : CommandSettings
{
    [CommandArgument(0, "<DATA>")]
    [Description("Labelled images with masks: a synthetic-set folder (manifest.json), an ISIC-style CSV, or a folder with one CSV.")]
    public string Data { get; set; } = "";

    [CommandOption("--model <PATH>")]
    [Description("Contract-v1 ONNX model (its .forward.onnx sibling classifies the perturbed images). Default: models/default/model.onnx.")]
    public string Model { get; set; } = Path.Combine("models", "default", "model.onnx");

    [CommandOption("--out <DIR>")]
    [Description("Folder for evaluation.md, evaluation.json, per_image.jsonl and the PNG plots. Default: evaluation.")]
    public string Out { get; set; } = "evaluation";

    [CommandOption("--method <IDS>")]
    [Description("Relevance method ids, comma-separated or repeated. Default: every method.")]
    public string[] Method { get; set; } = [];

    [CommandOption("--start-layer <N>")]
    [Description("First block of the rollout methods. Default: 1, as the paper's evaluations.")]
    public int StartLayer { get; set; } = 1;

    [CommandOption("--limit <N>")]
    [Description("Evaluate only the first N images of the set (0 = all).")]
    public int Limit { get; set; }

    [CommandOption("--batch-size <N>")]
    [Description("Images per run of the full (gradient + LRP) graph. Default: 8.")]
    public int BatchSize { get; set; } = 8;

    [CommandOption("--forward-batch-size <N>")]
    [Description("Perturbed images per run of the forward-only graph. Default: 64.")]
    public int ForwardBatchSize { get; set; } = 64;

    [CommandOption("--no-perturbation")]
    [Description("Skip the perturbation test (localisation only; much faster).")]
    public bool NoPerturbation { get; set; }

    [CommandOption("--no-target-class")]
    [Description("Perturb only by the predicted class's map, not also by the labelled class's.")]
    public bool NoTargetClass { get; set; }

    [CommandOption("--explain-class <LABEL>")]
    [Description("Explain this class in every image instead of the predicted one (e.g. a suspected shortcut class).")]
    public string? ExplainClass { get; set; }

    [CommandOption("--no-plots")]
    [Description("Write the tables only, no PNG plots.")]
    public bool NoPlots { get; set; }

    [CommandOption("--device <DEVICE>")]
    [Description("auto (CUDA if it loads, else CPU), cuda (or gpu) or cpu. Default: auto.")]
    public string Device { get; set; } = "auto";

    [CommandOption("--threads <N>")]
    [Description("ONNX Runtime intra-op threads (0 = its default).")]
    public int Threads { get; set; }

    public EvaluationSettings ToEvaluationSettings() => new()
    {
        DataPath = Data,
        Methods = Method.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList(),
        StartLayer = StartLayer,
        Limit = Limit,
        BatchSize = BatchSize,
        ForwardBatchSize = ForwardBatchSize,
        Perturbation = !NoPerturbation,
        TargetClass = !NoTargetClass,
        ExplainClass = ExplainClass,
    };

    public EngineDevice EngineDevice => EngineDevices.Parse(Device);

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Data)) return ValidationResult.Error("Give the data set: a folder with manifest.json or a CSV of labels.");
        if (Limit < 0) return ValidationResult.Error("--limit must be 0 or more.");
        if (BatchSize < 1 || ForwardBatchSize < 1) return ValidationResult.Error("Batch sizes must be at least 1.");
        if (Threads < 0) return ValidationResult.Error("--threads must be 0 or more.");
        if (!EngineDevices.TryParse(Device, out _)) return ValidationResult.Error($"--device must be one of {EngineDevices.Choices}, got '{Device}'.");
        return ValidationResult.Success();
    }
}

[Description("Score relevance maps against lesion masks and by perturbation, with the engine in process (no server).")]
internal sealed class EvaluateCommand : AsyncCommand<EvaluateSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, EvaluateSettings settings, CancellationToken cancellation)
    {
        var consoles = (EvaluateConsoles)context.Data!;
        var options = new EngineOptions
        {
            ModelPath = settings.Model,
            Device = settings.EngineDevice,
            IntraOpThreads = settings.Threads,
        };
        await using var engine = DermxaiEngine.Load(options);
        var report = await RunWithProgressAsync(consoles.Error, engine, settings.ToEvaluationSettings(), cancellation);

        var written = ReportWriter.Write(report, settings.Out).ToList();
        if (!settings.NoPlots) written.AddRange(WritePlots(consoles.Error, report, settings.Out));
        foreach (var skipped in report.Skipped) consoles.Error.Line($"SKIPPED {skipped}");
        consoles.Out.Write(EvaluateSummaryTable.Build(report));
        foreach (var path in written) consoles.Out.Line($"Wrote {path}");
        return report.Skipped.Count == 0 ? ExitCodes.Success : ExitCodes.SomeSkipped;
    }

    private static async Task<EvaluationReport> RunWithProgressAsync(IAnsiConsole errors, DermxaiEngine engine, EvaluationSettings settings, CancellationToken cancellation)
    {
        if (!errors.Profile.Capabilities.Interactive)
            return await MapEvaluator.RunAsync(engine, settings, null, cancellation);
        EvaluationReport? report = null;
        await errors.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async progressContext =>
            {
                var bar = progressContext.AddTask("Evaluating", maxValue: 1);
                var progress = new Progress<EvaluationProgress>(p =>
                {
                    bar.MaxValue = p.Total;
                    bar.Value = p.Done;
                    bar.Description = $"Evaluating {p.Done}/{p.Total} images";
                });
                report = await MapEvaluator.RunAsync(engine, settings, progress, cancellation);
                bar.Value = bar.MaxValue;
            });
        return report!;
    }

    /// <summary>Plots are a convenience: a rendering failure (e.g. no native Skia) is reported, not fatal.</summary>
    private static IReadOnlyList<string> WritePlots(IAnsiConsole errors, EvaluationReport report, string folder)
    {
        try { return EvaluatePlots.Write(report, folder); }
        catch (Exception error) when (error is DllNotFoundException or TypeInitializationException or InvalidOperationException)
        {
            errors.Line($"warning: plots not written ({error.GetBaseException().Message})");
            return [];
        }
    }
}

/// <summary>The headline numbers on the console: per method, the AUCs and the localisation scores.</summary>
internal static class EvaluateSummaryTable
{
    public static Table Build(EvaluationReport report)
    {
        var all = report.All;
        var table = new Table().Title($"{all.Images} images, clean accuracy {ReportWriter.Percent(all.CleanAccuracy)} %")
            .AddColumns("Method", "Neg AUC (pred)", "Pos AUC (pred)", "mIoU %", "mAP %", "Pointing %", "Lesion mass %", "Artifact mass %");
        foreach (var m in all.Methods)
        {
            var l = m.Localisation;
            table.AddRow(m.Method,
                ReportWriter.Number(m.Curve("negative", "predicted")?.Auc), ReportWriter.Number(m.Curve("positive", "predicted")?.Auc),
                ReportWriter.Percent(l?.MeanIoU), ReportWriter.Percent(l?.MeanAveragePrecision), ReportWriter.Percent(l?.PointingGame),
                ReportWriter.Percent(l?.LesionMass), ReportWriter.Percent(l?.ArtifactMass));
        }
        return table;
    }
}
