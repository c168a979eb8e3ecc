using System.ComponentModel;
using System.Globalization;
using Dermxai.Client.Cli;
using Dermxai.Client.Connection;
using Dermxai.Protocol.V1;
using Google.Protobuf;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Client.Commands;

internal sealed class InfoSettings : ServerSettings
{
    [CommandOption("--json")]
    [Description("Print the model info as proto JSON instead of tables.")]
    public bool Json { get; set; }
}

[Description("The served model: its card (sizes, preprocessing, checksums), labels and relevance methods.")]
internal sealed class InfoCommand(CliConsoles consoles) : AsyncCommand<InfoSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, InfoSettings settings, CancellationToken cancellation)
    {
        using var connection = DermxaiConnection.Open(settings);
        var info = (await connection.UnaryAsync(o => connection.Service.GetModelInfoAsync(new GetModelInfoRequest(), o), cancellation)).Model;
        if (settings.Json)
        {
            consoles.Out.Profile.Out.Writer.WriteLine(new JsonFormatter(JsonFormatter.Settings.Default.WithFormatDefaultValues(true)).Format(info));
            return CommandResults.Success;
        }
        consoles.Out.Write(ModelCard(info));
        consoles.Out.Write(Labels(info));
        consoles.Out.Write(Methods(info));
        return CommandResults.Success;
    }

    private static Table ModelCard(ModelInfo info)
    {
        var table = new Table { Title = new TableTitle("Model") }.AddColumns("Property", "Value");
        void Row(string name, object value) => table.AddRow(Markup.Escape(name), Markup.Escape(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""));
        Row("architecture", info.Architecture);
        Row("classes", info.Labels.Count);
        Row("image size / patch / grid", $"{info.ImageSize} / {info.PatchSize} / {info.GridSize}×{info.GridSize}");
        Row("layers × heads", $"{info.NumLayers} × {info.NumHeads}");
        Row("preprocessing", $"resize {info.Interpolation}, crop_pct {info.CropPct.ToString(CultureInfo.InvariantCulture)}, " +
            $"mean [{Floats(info.Mean)}], std [{Floats(info.Std)}]");
        Row("model sha256", info.ModelSha256);
        Row("checkpoint sha256", info.CheckpointSha256);
        Row("contract version", info.ContractVersion);
        Row("created by", info.CreatedBy);
        Row("device", info.Device);
        Row("max batch size", info.MaxBatchSize);
        Row("max image bytes / pixels", $"{info.MaxImageBytes} / {info.MaxImagePixels}");
        return table;
    }

    private static Table Labels(ModelInfo info)
    {
        var table = new Table { Title = new TableTitle("Labels") }.AddColumns("Index", "Label");
        for (var i = 0; i < info.Labels.Count; i++) table.AddRow(i.ToString(CultureInfo.InvariantCulture), Markup.Escape(info.Labels[i]));
        return table;
    }

    private static Table Methods(ModelInfo info)
    {
        var table = new Table { Title = new TableTitle("Relevance methods") }.AddColumns("Id", "Class-specific", "Start layer", "Description");
        table.Columns[0].NoWrap();
        foreach (var method in info.Methods)
            table.AddRow(Markup.Escape(method.Id + (method.IsDefault ? " (default)" : "")), YesNo(method.ClassSpecific),
                YesNo(method.UsesStartLayer), Markup.Escape(method.Description));
        return table;
    }

    private static string YesNo(bool value) => value ? "yes" : "no";

    private static string Floats(IEnumerable<float> values) =>
        string.Join(", ", values.Select(v => v.ToString("0.####", CultureInfo.InvariantCulture)));
}
