using System.Globalization;
using System.Text.Json;

namespace Dermxai.Evaluation;

/// <summary>One artifact drawn on a photo: its kind and bounding box in photo pixels (x0, y0, x1, y1).</summary>
internal sealed record ArtifactRegion(string Kind, int X0, int Y0, int X1, int Y1);

/// <summary>One labelled photo with optional masks and metadata for the breakdowns.</summary>
internal sealed record EvaluationItem(
    string Name,
    string ImagePath,
    int Label,
    string? LesionMaskPath,
    string? ArtifactMaskPath,
    string? SkinTone,
    string? Background,
    IReadOnlyList<ArtifactRegion> Artifacts);

/// <summary>
/// A folder of labelled photos: either the synthetic set's layout (manifest.json with one record per
/// image, see tools/synth_derm) or an ISIC-style CSV (see <see cref="CsvDataset"/>). Labels are
/// matched to the model's labels by name.
/// </summary>
internal sealed record EvaluationDataset(string Root, string Format, IReadOnlyList<EvaluationItem> Items)
{
    internal const string ManifestFile = "manifest.json";

    /// <summary>
    /// <paramref name="path"/> is a folder with manifest.json, a manifest file, a CSV file, or a folder
    /// with exactly one CSV file. Throws <see cref="InvalidDataException"/> with a sentence on what is wrong.
    /// </summary>
    internal static EvaluationDataset Load(string path, IReadOnlyList<string> modelLabels)
    {
        string full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            return full.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)
                ? CsvDataset.Read(full, modelLabels)
                : ReadManifest(full, modelLabels);
        }
        if (!Directory.Exists(full)) throw new InvalidDataException($"The data set {full} does not exist.");
        string manifest = Path.Combine(full, ManifestFile);
        if (File.Exists(manifest)) return ReadManifest(manifest, modelLabels);
        var csvFiles = Directory.GetFiles(full, "*.csv");
        if (csvFiles.Length == 1) return CsvDataset.Read(csvFiles[0], modelLabels);
        throw new InvalidDataException(csvFiles.Length == 0
            ? $"{full} has neither {ManifestFile} nor a CSV file of labels."
            : $"{full} has {csvFiles.Length} CSV files; name the one with the labels.");
    }

    /// <summary>The synthetic set's manifest.json: {"labels": [...], "images": [{name, image, class_index, ...}]}.</summary>
    internal static EvaluationDataset ReadManifest(string manifestPath, IReadOnlyList<string> modelLabels)
    {
        string root = Path.GetDirectoryName(manifestPath)!;
        using var document = JsonDocument.Parse(File.ReadAllText(manifestPath));
        var top = document.RootElement;
        var setLabels = top.TryGetProperty("labels", out var l) ? l.EnumerateArray().Select(e => e.GetString() ?? "").ToArray() : null;
        if (!top.TryGetProperty("images", out var images) || images.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{manifestPath} has no \"images\" array.");

        var items = new List<EvaluationItem>();
        foreach (var record in images.EnumerateArray())
        {
            string name = Text(record, "name") ?? Path.GetFileNameWithoutExtension(Text(record, "image") ?? "");
            string image = Text(record, "image") ?? throw new InvalidDataException($"{manifestPath}: record {name} has no \"image\".");
            string label = Text(record, "label")
                ?? (record.TryGetProperty("class_index", out var ci) && setLabels is not null && ci.GetInt32() < setLabels.Length
                    ? setLabels[ci.GetInt32()]
                    : throw new InvalidDataException($"{manifestPath}: record {name} has neither \"label\" nor a \"class_index\" into \"labels\"."));
            items.Add(new EvaluationItem(
                name,
                Path.Combine(root, image),
                LabelIndex(label, modelLabels, manifestPath),
                Optional(root, Text(record, "lesion_mask")),
                Optional(root, Text(record, "artifact_mask")),
                Text(record, "fitzpatrick") ?? Text(record, "skin_tone"),
                Text(record, "background"),
                Artifacts(record)));
        }
        return new EvaluationDataset(root, "manifest", items);
    }

    internal static int LabelIndex(string label, IReadOnlyList<string> modelLabels, string source)
    {
        for (int i = 0; i < modelLabels.Count; i++)
            if (string.Equals(modelLabels[i], label.Trim(), StringComparison.Ordinal)) return i;
        throw new InvalidDataException(
            $"{source}: label '{label}' is not one of the model's labels ({string.Join(", ", modelLabels)}).");
    }

    internal static string? Optional(string root, string? relative) =>
        string.IsNullOrWhiteSpace(relative) ? null : Path.Combine(root, relative);

    /// <summary>A string, or a number written as invariant text; null when absent or null.</summary>
    private static string? Text(JsonElement record, string property) =>
        record.TryGetProperty(property, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        } : null;

    private static IReadOnlyList<ArtifactRegion> Artifacts(JsonElement record)
    {
        if (!record.TryGetProperty("artifacts", out var list) || list.ValueKind != JsonValueKind.Array) return [];
        var result = new List<ArtifactRegion>();
        foreach (var artifact in list.EnumerateArray())
        {
            string kind = Text(artifact, "kind") ?? "artifact";
            if (artifact.TryGetProperty("box", out var box) && box.GetArrayLength() == 4)
            {
                var v = box.EnumerateArray().Select(e => (int)Math.Round(e.GetDouble(), MidpointRounding.AwayFromZero)).ToArray();
                result.Add(new ArtifactRegion(kind, v[0], v[1], v[2], v[3]));
            }
            else result.Add(new ArtifactRegion(kind, 0, 0, int.MaxValue, int.MaxValue));
        }
        return result;
    }
}

/// <summary>
/// ISIC-style CSV: a header row with an image column (<c>image</c>, <c>image_id</c>, <c>isic_id</c> or
/// <c>name</c>) and either a <c>label</c> column (class name) or one 0/1 column per model label (as ISIC
/// 2018 task 3's ground truth). Optional columns: <c>lesion_mask</c>, <c>artifact_mask</c>,
/// <c>skin_tone</c> (or <c>fitzpatrick</c>), <c>background</c>. Image ids without an extension are looked
/// up as .jpg/.jpeg/.png beside the CSV or in images/; a lesion mask without a column is looked up as
/// <c>&lt;id&gt;_segmentation.png</c> (ISIC task 1) beside the CSV, in masks/ or in segmentation/.
/// </summary>
internal static class CsvDataset
{
    private static readonly string[] ImageColumns = ["image", "image_id", "isic_id", "name"];
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".JPG", ".JPEG", ".PNG"];

    internal static EvaluationDataset Read(string csvPath, IReadOnlyList<string> modelLabels)
    {
        string root = Path.GetDirectoryName(csvPath)!;
        var lines = File.ReadAllLines(csvPath).Where(line => line.Trim().Length > 0).ToArray();
        if (lines.Length < 2) throw new InvalidDataException($"{csvPath} has no data rows.");
        var header = Split(lines[0]);
        int Column(params string[] names) => Array.FindIndex(header, h => names.Contains(h.Trim().ToLowerInvariant()));
        int imageColumn = Column(ImageColumns);
        if (imageColumn < 0) throw new InvalidDataException($"{csvPath}: no image column (one of {string.Join(", ", ImageColumns)}).");
        int labelColumn = Column("label", "diagnosis", "dx");
        var oneHot = modelLabels.Select(label => Array.FindIndex(header, h => h.Trim() == label)).ToArray();
        if (labelColumn < 0 && oneHot.Any(i => i < 0))
            throw new InvalidDataException($"{csvPath}: no label column and not one column per model label ({string.Join(", ", modelLabels)}).");
        int lesion = Column("lesion_mask", "mask"), artifact = Column("artifact_mask");
        int tone = Column("skin_tone", "fitzpatrick"), background = Column("background");

        var items = new List<EvaluationItem>();
        for (int row = 1; row < lines.Length; row++)
        {
            var cells = Split(lines[row]);
            string Cell(int column) => column >= 0 && column < cells.Length ? cells[column].Trim() : "";
            string id = Cell(imageColumn);
            int label = labelColumn >= 0
                ? EvaluationDataset.LabelIndex(Cell(labelColumn), modelLabels, csvPath)
                : OneHotLabel(oneHot.Select(Cell).ToArray(), csvPath, row);
            string stem = Path.GetFileNameWithoutExtension(id);
            items.Add(new EvaluationItem(
                stem,
                FindImage(root, id) ?? throw new InvalidDataException($"{csvPath} row {row}: image '{id}' not found beside the CSV or in images/."),
                label,
                EvaluationDataset.Optional(root, Cell(lesion)) ?? FindSegmentation(root, stem),
                EvaluationDataset.Optional(root, Cell(artifact)),
                NullIfEmpty(Cell(tone)),
                NullIfEmpty(Cell(background)),
                []));
        }
        return new EvaluationDataset(root, "csv", items);
    }

    private static int OneHotLabel(string[] cells, string csvPath, int row)
    {
        int found = -1;
        for (int i = 0; i < cells.Length; i++)
        {
            if (!double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v < 0.5) continue;
            if (found >= 0) throw new InvalidDataException($"{csvPath} row {row}: more than one label column is set.");
            found = i;
        }
        return found >= 0 ? found : throw new InvalidDataException($"{csvPath} row {row}: no label column is set.");
    }

    private static string? FindImage(string root, string id)
    {
        var candidates = Path.HasExtension(id) ? [id] : ImageExtensions.Select(ext => id + ext);
        foreach (string name in candidates)
        foreach (string folder in new[] { root, Path.Combine(root, "images") })
            if (File.Exists(Path.Combine(folder, name))) return Path.Combine(folder, name);
        return null;
    }

    private static string? FindSegmentation(string root, string stem)
    {
        foreach (string folder in new[] { root, Path.Combine(root, "masks"), Path.Combine(root, "segmentation") })
        {
            string path = Path.Combine(folder, stem + "_segmentation.png");
            if (File.Exists(path)) return path;
        }
        return null;
    }

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;

    /// <summary>Comma-separated cells; double quotes may enclose a cell with commas ("" is a quote).</summary>
    internal static string[] Split(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        cells.Add(cell.ToString());
        return cells.ToArray();
    }
}
