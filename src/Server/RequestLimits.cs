using Dermxai.Engine;
using Proto = Dermxai.Protocol.V1;

namespace Dermxai.Server;

/// <summary>
/// The documented maximum length of every string a client sends (proto/dermxai/v1/dermxai.proto),
/// checked before any other work. A refusal names the field and the limit and repeats none of the
/// client's text.
/// </summary>
internal static class RequestLimits
{
    internal const int MaxMethodId = 64;
    internal const int MaxClassLabel = 256;
    internal const int MaxClientTag = 128;

    internal static void Check(Proto.ExplainRequest request)
    {
        Bound(request.ClientTag, "client_tag", MaxClientTag);
        for (int i = 0; i < request.Methods.Count; i++) Bound(request.Methods[i], $"methods[{i}]", MaxMethodId);
        for (int i = 0; i < request.Targets.Count; i++)
            if (request.Targets[i].KindCase == Proto.TargetSpec.KindOneofCase.ClassLabel)
                Bound(request.Targets[i].ClassLabel, $"targets[{i}].class_label", MaxClassLabel);
    }

    private static void Bound(string value, string field, int limit)
    {
        if (value.Length > limit)
            throw EngineException.Invalid(ErrorReasons.FieldTooLong, field,
                $"{field} is {value.Length} characters long; the limit is {limit}.");
    }
}
