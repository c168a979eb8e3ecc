using System.ComponentModel;
using Dermxai.Client.Connection;
using Dermxai.Client.Explain;
using Dermxai.Client.Inputs;
using Dermxai.Protocol.V1;
using Google.Protobuf;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Client.Bench;

internal enum Rpc { Classify, Explain }

/// <summary>One request message, built from an image file and an RPC choice (bench and payload).</summary>
internal class LoadSettings : ServerSettings
{
    [CommandOption("--image <FILE>")]
    [Description("The JPEG or PNG sent in every request.")]
    public string? Image { get; set; }

    [CommandOption("--rpc <RPC>")]
    [Description("classify or explain. Default: classify.")]
    public string RpcName { get; set; } = "classify";

    [CommandOption("--method <IDS>")]
    [Description("explain only: method ids, comma-separated. Default: the server's (transformer_attribution).")]
    public string[] Method { get; set; } = [];

    [CommandOption("--target <TARGET>")]
    [Description("explain only: predicted | top-k:N | INDEX | LABEL; repeatable. Default: predicted.")]
    public string[] Target { get; set; } = [];

    [CommandOption("--overlay")]
    [Description("explain only: also ask for the overlay PNG (grids only otherwise).")]
    public bool Overlay { get; set; }

    [CommandOption("--top-k <K>")]
    [Description("Classes of the differential to return (0 = the server's default).")]
    public int TopK { get; set; }

    public Rpc Rpc => Enum.Parse<Rpc>(RpcName, ignoreCase: true);

    /// <summary>The fully qualified method, as ghz's --call and the HTTP/2 path name it.</summary>
    public string CallName => $"{Protocol.V1.DermxaiService.Descriptor.FullName}.{Rpc}";

    public IMessage BuildRequest()
    {
        var image = ByteString.CopyFrom(File.ReadAllBytes(Image!));
        return Rpc == Rpc.Classify
            ? ClassifyRequests.Create(image, TopK)
            : new ExplainRequests(ListOption.Split(Method), TargetParser.ParseAll(Target), null, TopK).Create(image, Overlay, heatmap: false);
    }

    public override ValidationResult Validate()
    {
        var server = base.Validate();
        if (!server.Successful) return server;
        if (Image is null) return ValidationResult.Error("Give --image FILE (a JPEG or PNG).");
        if (!File.Exists(Image)) return ValidationResult.Error($"File not found: {Image}");
        if (!Enum.TryParse<Rpc>(RpcName, ignoreCase: true, out _)) return ValidationResult.Error("--rpc must be classify or explain.");
        try { _ = TargetParser.ParseAll(Target); }
        catch (FormatException error) { return ValidationResult.Error(error.Message); }
        return TopK < 0 ? ValidationResult.Error("--top-k must be >= 0.") : ValidationResult.Success();
    }
}
