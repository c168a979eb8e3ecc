using System.Buffers.Binary;
using System.ComponentModel;
using Dermxai.Client.Bench;
using Dermxai.Client.Cli;
using Google.Protobuf;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Dermxai.Client.Commands;

internal sealed class PayloadSettings : LoadSettings
{
    [CommandOption("--out <FILE>")]
    [Description("Where to write the serialized request message.")]
    public string? Out { get; set; }

    [CommandOption("--framed")]
    [Description("Prefix the gRPC length-prefixed message header (1 flag byte + 4-byte big-endian length): an HTTP/2 request body for h2load/curl. Without it: the bare message for ghz -B.")]
    public bool Framed { get; set; }

    public override ValidationResult Validate() =>
        Out is null ? ValidationResult.Error("Give --out FILE.") : base.Validate();
}

[Description("(dev) Write one request message built from an image, for ghz --binary-file or, framed, for h2load.")]
internal sealed class PayloadCommand(CliConsoles consoles) : Command<PayloadSettings>
{
    public const int FrameHeaderBytes = 5;

    public override int Execute(CommandContext context, PayloadSettings settings, CancellationToken cancellation)
    {
        var message = settings.BuildRequest().ToByteArray();
        var bytes = settings.Framed ? Frame(message) : message;
        File.WriteAllBytes(settings.Out!, bytes);
        consoles.Out.Line($"{settings.Out}: {bytes.Length} bytes, {settings.CallName} request{(settings.Framed ? " (gRPC-framed)" : "")}");
        return CommandResults.Success;
    }

    /// <summary>gRPC's length-prefixed message: flag 0 (uncompressed), big-endian length, the message.</summary>
    internal static byte[] Frame(byte[] message)
    {
        var framed = new byte[FrameHeaderBytes + message.Length];
        framed[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1, 4), (uint)message.Length);
        message.CopyTo(framed, FrameHeaderBytes);
        return framed;
    }
}
