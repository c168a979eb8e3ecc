using Dermxai.Protocol.V1;

namespace Dermxai.Hardening.Tests.Fuzz;

/// <summary>
/// Draws ExplainRequest options (methods, targets, start layer, colormap, alpha, faithfulness, top-k)
/// from valid and hostile values, and says whether the whole request is valid by the proto's
/// documented ranges: the independent oracle for the "options" cases.
/// </summary>
internal sealed class ExplainOptionFuzzer(Random random, HostileCorpus.ModelFacts model)
{
    private static readonly string[] HostileStrings =
    [
        "", " ", "\0", "unknown_method", "transformer-attribution", "transformer_attribution\0", "rollout",
        "\u202Etransformer_attribution", "transformer_attribution\nInjected log line", "🔥", "../../etc/passwd",
        "%s%s%n", "'; DROP TABLE maps; --", new string('x', 4096), new string('\u00e9', 2000),
    ];

    internal (ExplainRequest Request, bool Valid) Next()
    {
        var request = new ExplainRequest();
        bool valid = true;
        int methods = random.Next(4);
        for (int i = 0; i < methods; i++) valid &= AddMethod(request);
        int targets = random.Next(4);
        for (int i = 0; i < targets; i++) valid &= AddTarget(request);
        if (random.Next(3) == 0) valid &= SetStartLayer(request);
        request.Outputs = new OutputOptions { IncludeOverlayPng = random.Next(4) == 0, IncludeHeatmapPng = random.Next(6) == 0 };
        if (random.Next(3) == 0) valid &= SetColormap(request.Outputs);
        if (random.Next(3) == 0) valid &= SetAlpha(request.Outputs);
        if (random.Next(5) == 0) valid &= SetFaithfulness(request);
        if (random.Next(4) == 0) valid &= SetTopK(request);
        if (random.Next(4) == 0) valid &= SetClientTag(request);
        return (request, valid);
    }

    private bool AddMethod(ExplainRequest request)
    {
        if (random.Next(2) == 0)
        {
            string id = Pick(model.Methods);
            string[] spellings = [id, id.ToUpperInvariant(), $"  {id} "];
            request.Methods.Add(Pick(spellings));
            return true; // ids are matched case-insensitively, surrounding blanks ignored
        }
        string hostile = Pick(HostileStrings);
        request.Methods.Add(hostile); // an id above 64 characters is refused as too long, otherwise as unknown
        return model.Methods.Any(m => string.Equals(m, hostile.Trim(), StringComparison.OrdinalIgnoreCase));
    }

    private bool AddTarget(ExplainRequest request)
    {
        int classes = model.Labels.Count;
        switch (random.Next(4))
        {
            case 0:
                request.Targets.Add(new TargetSpec { Predicted = new() });
                return true;
            case 1:
                int k = Pick([-1, 0, 1, 2, classes, classes + 1, int.MaxValue, int.MinValue]);
                request.Targets.Add(new TargetSpec { TopClasses = k });
                return k >= 1 && k <= classes;
            case 2:
                int index = Pick([-1, 0, 1, classes - 1, classes, int.MaxValue, int.MinValue]);
                request.Targets.Add(new TargetSpec { ClassIndex = index });
                return index >= 0 && index < classes;
            default:
                string label = random.Next(2) == 0 ? Pick(model.Labels) : Pick(HostileStrings);
                request.Targets.Add(new TargetSpec { ClassLabel = label });
                return model.Labels.Contains(label); // exact, case-sensitive
        }
    }

    private bool SetStartLayer(ExplainRequest request)
    {
        int layer = Pick([0, 1, model.NumLayers - 1, model.NumLayers, -1, int.MaxValue, int.MinValue]);
        request.StartLayer = layer;
        return layer >= 0 && layer < model.NumLayers;
    }

    private bool SetColormap(OutputOptions outputs)
    {
        var colormap = Pick([Colormap.Unspecified, Colormap.Jet, Colormap.Turbo, Colormap.Viridis, (Colormap)4, (Colormap)(-1), (Colormap)int.MaxValue]);
        outputs.Colormap = colormap;
        return Enum.IsDefined(colormap);
    }

    private bool SetClientTag(ExplainRequest request)
    {
        request.ClientTag = Pick(HostileStrings);
        return request.ClientTag.Length <= 128; // the documented limit
    }

    private bool SetAlpha(OutputOptions outputs)
    {
        float alpha = Pick([0f, 0.5f, 1f, float.Epsilon, 1.0001f, -0.1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity]);
        outputs.OverlayAlpha = alpha;
        return alpha > 0 && alpha <= 1; // unset means the default; 0 is refused
    }

    private bool SetFaithfulness(ExplainRequest request)
    {
        float fraction = Pick([0f, 0.1f, 0.5f, 0.999f, 1f, -0.1f, float.NaN, float.PositiveInfinity, float.Epsilon]);
        request.FaithfulnessFraction = fraction;
        return fraction > 0 && fraction < 1; // unset means off; 0 is refused
    }

    private bool SetTopK(ExplainRequest request)
    {
        int k = Pick([0, 1, 3, model.Labels.Count, 100, -1, int.MinValue]);
        request.TopK = k;
        return k >= 1; // more than the classes returns all of them
    }

    private T Pick<T>(IReadOnlyList<T> values) => values[random.Next(values.Count)];
}
