using System.Text;

namespace Dermxai.Tests;

/// <summary>
/// Writes a minimal valid ONNX model (pixel_values → Identity → logits) with chosen metadata, so the
/// refusal of non-contract models can be tested without any exporter. Protobuf encoded by hand.
/// </summary>
internal static class TinyOnnx
{
    internal static byte[] IdentityModel(IReadOnlyDictionary<string, string> metadata)
    {
        var graph = new List<byte>();
        graph.AddRange(Field(1, Message(Field(1, Str("pixel_values")), Field(2, Str("logits")), Field(4, Str("Identity")))));
        graph.AddRange(Field(2, Str("g")));
        graph.AddRange(Field(11, ValueInfo("pixel_values")));
        graph.AddRange(Field(12, ValueInfo("logits")));

        var model = new List<byte>();
        model.AddRange(Varint(1, 8));                                  // ir_version
        model.AddRange(Field(7, graph.ToArray()));                     // graph
        model.AddRange(Field(8, Message(Varint(2, 13))));              // opset_import { version: 13 }
        foreach (var (key, value) in metadata)
            model.AddRange(MetadataEntry(key, value));
        return model.ToArray();
    }

    /// <summary>
    /// One ModelProto metadata_props entry; appended to a serialised model it adds that entry (protobuf
    /// concatenates repeated fields).
    /// </summary>
    internal static byte[] MetadataEntry(string key, string value) => Field(14, Message(Field(1, Str(key)), Field(2, Str(value))));

    private static byte[] ValueInfo(string name)
    {
        byte[] dim = Message(Varint(1, 1));
        byte[] shape = Message(Field(1, dim), Field(1, dim));
        byte[] tensorType = Message(Varint(1, 1), Field(2, shape));   // elem_type FLOAT, shape [1,1]
        return Message(Field(1, Str(name)), Field(2, Message(Field(1, tensorType))));
    }

    private static byte[] Str(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Message(params byte[][] fields) => fields.SelectMany(f => f).ToArray();

    private static byte[] Field(int number, byte[] payload) =>
        [.. VarintBytes((ulong)(number << 3 | 2)), .. VarintBytes((ulong)payload.Length), .. payload];

    private static byte[] Varint(int number, ulong value) => [.. VarintBytes((ulong)(number << 3)), .. VarintBytes(value)];

    private static byte[] VarintBytes(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value != 0 ? (byte)(b | 0x80) : b);
        } while (value != 0);
        return bytes.ToArray();
    }
}
