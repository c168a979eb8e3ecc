using Dermxai.Evaluation;
using ScottPlot;

namespace Dermxai.Evaluation.Cli;

/// <summary>
/// PNG plots of an evaluation (ScottPlot, headless): the perturbation curves per method, and grouped
/// bars per skin tone and per background type.
/// </summary>
internal static class EvaluatePlots
{
    private const int Width = 900, Height = 560;

    public static IReadOnlyList<string> Write(EvaluationReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        foreach (var mode in new[] { "positive", "negative" })
        {
            if (report.All.Methods.All(m => m.Curve(mode, "predicted") is null)) continue;
            written.Add(Save(Curves(report.All, mode), Path.Combine(folder, $"perturbation_{mode}.png")));
        }
        var metrics = new (string File, string Title, Func<MethodSummary, double?> Value)[]
        {
            ("lesion_mass", "Relevance mass on the lesion (%)", m => m.Localisation?.LesionMass * 100),
            ("miou", "mIoU (%)", m => m.Localisation?.MeanIoU * 100),
            ("negative_auc", "Negative perturbation AUC, predicted class", m => m.Curve("negative", "predicted")?.Auc),
        };
        foreach (var dimension in new[] { "skin_tone", "background" })
        {
            var groups = report.Groups.Where(g => g.Dimension == dimension).ToArray();
            if (groups.Length == 0) continue;
            foreach (var (file, title, value) in metrics)
            {
                if (groups.All(g => g.Methods.All(m => value(m) is null))) continue;
                written.Add(Save(GroupedBars(groups, report.Methods, $"{title} by {dimension.Replace('_', ' ')}", value),
                    Path.Combine(folder, $"{file}_by_{dimension}.png")));
            }
        }
        return written;
    }

    private static Plot Curves(GroupSummary group, string mode)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < group.Methods.Count; i++)
        {
            var method = group.Methods[i];
            if (method.Curve(mode, "predicted") is not { } curve) continue;
            var line = plot.Add.Scatter(curve.Fractions.ToArray(), curve.Accuracy.Select(a => a * 100).ToArray(), palette.GetColor(i));
            line.LegendText = $"{method.Method} (AUC {curve.Auc:F1})";
            line.LineWidth = 2;
        }
        plot.Title($"{(mode == "positive" ? "Positive" : "Negative")} perturbation ({(mode == "positive" ? "most" : "least")} relevant pixels removed first), {group.Images} images");
        plot.XLabel("fraction of pixels removed");
        plot.YLabel("accuracy vs label (%)");
        plot.Axes.SetLimits(0, 0.9, 0, 100);
        plot.ShowLegend(mode == "positive" ? Alignment.UpperRight : Alignment.LowerLeft);
        return plot;
    }

    private static Plot GroupedBars(GroupSummary[] groups, IReadOnlyList<string> methods, string title, Func<MethodSummary, double?> value)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        double slot = 0.8 / methods.Count;
        var bars = new List<Bar>();
        for (int g = 0; g < groups.Length; g++)
        for (int m = 0; m < methods.Count; m++)
        {
            var summary = groups[g].Methods.FirstOrDefault(s => s.Method == methods[m]);
            if (summary is null || value(summary) is not { } v || !double.IsFinite(v)) continue;
            bars.Add(new Bar { Position = g - 0.4 + slot * (m + 0.5), Value = v, Size = slot * 0.9, FillColor = palette.GetColor(m) });
        }
        plot.Add.Bars(bars);
        for (int m = 0; m < methods.Count; m++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = methods[m], FillColor = palette.GetColor(m) });
        var ticks = groups.Select((g, i) => new Tick(i, $"{g.Value} (n={g.Images})")).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    private static string Save(Plot plot, string path)
    {
        plot.SavePng(path, Width, Height);
        return path;
    }
}
