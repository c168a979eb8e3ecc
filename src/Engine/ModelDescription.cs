using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Dermxai.Attribution;

namespace Dermxai.Engine;

/// <summary>A contract-v1 model's metadata as exported (see docs/contract.md#model-contract).</summary>
public sealed record ModelDescription
{
    public const int ContractVersion = 1;

    public required IReadOnlyList<string> Labels { get; init; }
    public required int ImageSize { get; init; }
    public required int PatchSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required double[] Mean { get; init; }
    public required double[] Std { get; init; }
    public required double CropPct { get; init; }
    /// <summary>"bicubic" or "bilinear".</summary>
    public required string Interpolation { get; init; }
    public required string Architecture { get; init; }
    public required string CheckpointSha256 { get; init; }
    public required string CreatedBy { get; init; }
    /// <summary>"float32" or "float64": the element type of pixel_values and of every float output.</summary>
    public required string DType { get; init; }
    /// <summary>sha256 of the ONNX file, lower-case hex.</summary>
    public required string ModelSha256 { get; init; }
    /// <summary>
    /// P, the tokens in front of the patch grid (class, distillation, registers); metadata 'prefix_tokens',
    /// 1 (the class token) when absent.
    /// </summary>
    public int PrefixTokens { get; init; } = 1;
    /// <summary>The token rows the logits read (metadata 'readout'); the class token when absent.</summary>
    public Readout Readout { get; init; } = Readout.Class;

    public int NumClasses => Labels.Count;
    public int GridSize => ImageSize / PatchSize;
    /// <summary>N = P + g², the tokens of every attention matrix.</summary>
    public int Tokens => GridSize * GridSize + PrefixTokens;
    public bool IsFloat64 => DType == "float64";

    /// <summary>The shape and token layout of the attention contract tensors for <paramref name="batch"/> images.</summary>
    public AttentionShape ContractShape(int batch) => new(NumLayers, batch, NumHeads, Tokens, PrefixTokens, Readout);

    /// <summary>
    /// Reads and checks the metadata; refuses anything that is not contract version 1, and a token layout
    /// that disagrees with <paramref name="graphTokens"/>, the N of the graph's attention outputs (≤ 0: not
    /// fixed in the graph, not checked).
    /// </summary>
    internal static ModelDescription Parse(string path, IReadOnlyDictionary<string, string> meta, string sha256, int graphTokens = -1)
    {
        string name = Path.GetFileName(path);
        if (!meta.TryGetValue("dermxai.contract", out var contract))
            throw new InvalidDataException(
                $"{name} is not a Dermxai model: its metadata has no 'dermxai.contract' entry (export it with tools/export_onnx).");
        if (contract.Trim() != "1")
            throw new InvalidDataException(
                $"{name} uses Dermxai model contract '{contract}', but this server supports contract 1 only.");

        string Get(string key) => meta.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v)
            ? v
            : throw new InvalidDataException($"{name} lacks the contract metadata entry '{key}'.");
        int Int(string key) => int.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v
            : throw new InvalidDataException($"{name}: metadata '{key}' must be a positive integer.");
        T Json<T>(string key)
        {
            try { return JsonSerializer.Deserialize<T>(Get(key)) ?? throw new JsonException(); }
            catch (JsonException) { throw new InvalidDataException($"{name}: metadata '{key}' is not a valid JSON array."); }
        }

        var labels = Json<string[]>("labels");
        var mean = Json<double[]>("mean");
        var std = Json<double[]>("std");
        if (labels.Length == 0) throw new InvalidDataException($"{name}: metadata 'labels' is empty.");
        if (mean.Length != 3 || std.Length != 3 || std.Any(s => s <= 0))
            throw new InvalidDataException($"{name}: metadata 'mean' and 'std' must hold 3 values (std > 0).");
        if (!double.TryParse(Get("crop_pct"), NumberStyles.Float, CultureInfo.InvariantCulture, out var cropPct)
            || cropPct <= 0 || cropPct > 1)
            throw new InvalidDataException($"{name}: metadata 'crop_pct' must be a number in (0, 1].");
        string interpolation = Get("interpolation").Trim().ToLowerInvariant();
        if (interpolation is not ("bicubic" or "bilinear"))
            throw new InvalidDataException($"{name}: interpolation '{interpolation}' is not supported (bicubic or bilinear).");
        string dtype = meta.TryGetValue("dtype", out var d) ? d.Trim() : "float32";
        if (dtype is not ("float32" or "float64"))
            throw new InvalidDataException($"{name}: dtype '{dtype}' is not supported (float32 or float64).");
        if (meta.TryGetValue("num_classes", out var nc) && nc.Trim() != labels.Length.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"{name}: metadata num_classes {nc} disagrees with {labels.Length} labels.");

        var model = new ModelDescription
        {
            Labels = labels,
            ImageSize = Int("image_size"),
            PatchSize = Int("patch_size"),
            NumLayers = Int("num_layers"),
            NumHeads = Int("num_heads"),
            Mean = mean,
            Std = std,
            CropPct = cropPct,
            Interpolation = interpolation,
            Architecture = Get("architecture"),
            CheckpointSha256 = meta.GetValueOrDefault("checkpoint_sha256", ""),
            CreatedBy = meta.GetValueOrDefault("created_by", ""),
            DType = dtype,
            ModelSha256 = sha256,
        };
        if (model.ImageSize % model.PatchSize != 0)
            throw new InvalidDataException($"{name}: image_size {model.ImageSize} is not a multiple of patch_size {model.PatchSize}.");
        var (prefixTokens, readout) = ParseTokenLayout(name, meta);
        model = model with { PrefixTokens = prefixTokens, Readout = readout };
        if (graphTokens > 0 && graphTokens != model.Tokens)
            throw new InvalidDataException(
                $"{name}: prefix_tokens {prefixTokens} + grid² {model.GridSize * model.GridSize} = {model.Tokens} tokens, but the graph's attention outputs have N = {graphTokens}.");
        return model;
    }

    private static (int PrefixTokens, Readout Readout) ParseTokenLayout(string name, IReadOnlyDictionary<string, string> meta)
    {
        int prefixTokens = ParsePrefixTokens(name, meta);
        var readout = ParseReadout(name, meta);
        int needed = readout.MinimumPrefixTokens();
        if (prefixTokens < needed)
        {
            string reads = needed == 1 ? "the class token" : "the class and distillation tokens";
            string given = meta.ContainsKey("readout") ? "" : " (the default without a 'readout' entry)";
            throw new InvalidDataException(
                $"{name}: readout '{readout.Id()}'{given} reads {reads}, so it needs prefix_tokens ≥ {needed}, but prefix_tokens is {prefixTokens}.");
        }
        return (prefixTokens, readout);
    }

    private static int ParsePrefixTokens(string name, IReadOnlyDictionary<string, string> meta)
    {
        if (!meta.TryGetValue("prefix_tokens", out var text)) return 1;
        return int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var p)
            ? p
            : throw new InvalidDataException($"{name}: metadata 'prefix_tokens' must be a non-negative integer, got '{text}'.");
    }

    private static Readout ParseReadout(string name, IReadOnlyDictionary<string, string> meta)
    {
        if (!meta.TryGetValue("readout", out var text)) return Readout.Class;
        return Readouts.TryParse(text, out var readout)
            ? readout
            : throw new InvalidDataException(
                $"{name}: readout '{text}' is not supported ({string.Join(", ", Readouts.All.Select(r => r.Id()))}).");
    }

    internal static string FileSha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
