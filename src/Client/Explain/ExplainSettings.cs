using System.ComponentModel;
using Dermxai.Client.Cli;
using Dermxai.Client.Inputs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Client.Explain;

internal sealed class ExplainSettings : FileBatchSettings
{
    [CommandOption("--method <IDS>")]
    [Description("Relevance method ids, comma-separated or repeated (see `dermxai info`). Default: the server's (transformer_attribution).")]
    public string[] Method { get; set; } = [];

    [CommandOption("--target <TARGET>")]
    [Description("Class(es) to explain: predicted | top-k:N | INDEX | LABEL; repeatable. Default: predicted.")]
    public string[] Target { get; set; } = [];

    [CommandOption("--start-layer <N>")]
    [Description("First block the rollout methods use (the reference notebooks use 0, the paper's evaluations 1).")]
    public int? StartLayer { get; set; }

    [CommandOption("--out <DIR>")]
    [Description("Write <name>.overlay.png (and .heatmap.png) per image, and index.html, into DIR.")]
    public string? Out { get; set; }

    [CommandOption("--outputs <KINDS>")]
    [Description("overlay, heatmap, grid (comma-separated). PNGs need --out; grid puts the raw grids in the JSON. Default: " + OutputSelection.Default + ".")]
    public string[] Outputs { get; set; } = [OutputSelection.Default];

    [CommandOption("--colormap <NAME>")]
    [Description("jet (default), turbo or viridis.")]
    public string? Colormap { get; set; }

    [CommandOption("--alpha <A>")]
    [Description("Heat-map opacity in the overlay, 0 < A <= 1. Default: the server's (0.5).")]
    public float Alpha { get; set; }

    [CommandOption("--faithfulness <FRACTION>")]
    [Description("Also re-classify with the most / least relevant FRACTION of patches removed, in (0, 1).")]
    public float Faithfulness { get; set; }

    public OutputSelection Selection => OutputSelection.Parse(ListOption.Split(Outputs));

    public ExplainRequests Requests => new(
        ListOption.Split(Method), TargetParser.ParseAll(Target), StartLayer, TopK, Colormap, Alpha, Faithfulness);

    public override ValidationResult Validate()
    {
        var common = base.Validate();
        if (!common.Successful) return common;
        try
        {
            if (Selection.AnyPng && Out is null && !Outputs.SequenceEqual([OutputSelection.Default]))
                return ValidationResult.Error("--outputs overlay/heatmap write PNG files: give --out DIR.");
            _ = Requests;
        }
        catch (FormatException error)
        {
            return ValidationResult.Error(error.Message);
        }
        if (Alpha is < 0 or > 1) return ValidationResult.Error("--alpha must be in (0, 1].");
        if (Faithfulness is < 0 or >= 1) return ValidationResult.Error("--faithfulness must be in (0, 1).");
        return ValidationResult.Success();
    }
}
