using System.Globalization;
using System.Net;
using System.Text;
using Dermxai.Client.Cli;

namespace Dermxai.Client.Explain;

/// <summary>
/// index.html in the output folder: one row per image with the photo (copied into photos/), its
/// first overlay and its top-3. Self-contained: inline style, relative image paths only.
/// </summary>
internal static class HtmlIndexWriter
{
    public const string FileName = "index.html";
    private const int TopClasses = 3;

    public static string Write(string folder, OutputNames names, IReadOnlyList<FileOutcome<ExplainedImage>> outcomes)
    {
        Directory.CreateDirectory(Path.Combine(folder, "photos"));
        var rows = new StringBuilder();
        foreach (var outcome in outcomes)
        {
            if (outcome.Result is null)
            {
                rows.Append(FailedRow(outcome));
                continue;
            }
            var photo = names.Photo(outcome.Path);
            File.Copy(outcome.Path, Path.Combine(folder, photo), overwrite: true);
            rows.Append(ExplainedRow(outcome.Path, outcome.Result, photo));
        }
        var path = Path.Combine(folder, FileName);
        File.WriteAllText(path, Page(rows.ToString()));
        return path;
    }

    private static string ExplainedRow(string input, ExplainedImage image, string photo)
    {
        var overlay = image.Files.Select(f => f.Overlay ?? f.Heatmap).FirstOrDefault(f => f is not null);
        var explanation = image.Response.Explanations.FirstOrDefault();
        var caption = explanation is null ? "" : $"{explanation.Method} → {explanation.Target?.Label}";
        var top = string.Concat(image.Response.Predictions.Take(TopClasses).Select(p =>
            $"<li><b>{Html(p.Label)}</b> {p.Probability.ToString("0.000", CultureInfo.InvariantCulture)}</li>"));
        var overlayCell = overlay is null ? "<td>(no overlay requested)</td>" : $"<td><img src=\"{Attr(overlay)}\" alt=\"overlay\"><br><small>{Html(caption)}</small></td>";
        return $"<tr><td><img src=\"{Attr(photo)}\" alt=\"photo\"><br><small>{Html(Path.GetFileName(input))}</small></td>{overlayCell}<td><ol>{top}</ol></td></tr>\n";
    }

    private static string FailedRow(FileOutcome<ExplainedImage> outcome) =>
        $"<tr class=\"failed\"><td><small>{Html(Path.GetFileName(outcome.Path))}</small></td>" +
        $"<td colspan=\"2\">failed: {Html(outcome.Error ?? "")}</td></tr>\n";

    private static string Page(string rows) => $$"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Dermxai explanations</title>
        <style>
        body { font-family: sans-serif; margin: 1.5em; }
        table { border-collapse: collapse; }
        td, th { border: 1px solid #ccc; padding: 6px; vertical-align: top; text-align: left; }
        img { max-width: 320px; max-height: 320px; }
        .failed td { background: #fee; }
        .note { color: #a00; }
        </style></head><body>
        <h1>Dermxai explanations</h1>
        <p class="note">Demonstration output. Not for diagnosis.</p>
        <table><tr><th>Photo</th><th>Relevance overlay</th><th>Top 3</th></tr>
        {{rows}}</table>
        </body></html>
        """;

    private static string Html(string text) => WebUtility.HtmlEncode(text);

    private static string Attr(string relativePath) =>
        string.Join('/', relativePath.Split('/').Select(Uri.EscapeDataString));
}
