using Grpc.Core;

namespace Dermxai.Server;

/// <summary>
/// The request id of a gRPC call: the caller's <see cref="Header"/> when usable, else a new one. It is
/// given when the request arrives (<see cref="RequestIdMiddleware"/>), so that every answer carries it,
/// refusals included (authentication, oversize or unparsable messages) that no interceptor sees.
/// </summary>
internal static class RequestIds
{
    /// <summary>The metadata (HTTP header) that carries the id both ways; the only place its name is written.</summary>
    internal const string Header = "x-request-id";
    private const string Key = "dermxai.request_id";

    /// <summary>The id of this request, assigned (kept in Items, set on the response headers) on first use.</summary>
    internal static string Of(HttpContext context)
    {
        if (context.Items.TryGetValue(Key, out var assigned) && assigned is string id) return id;
        string given = context.Request.Headers[Header].ToString();
        id = IsUsable(given) ? given : Guid.NewGuid().ToString("N");
        context.Items[Key] = id;
        context.Response.Headers[Header] = id;
        return id;
    }

    internal static string Of(ServerCallContext context) => Of(context.GetHttpContext());

    /// <summary>The log scope of a call's lines: its request id and RPC label.</summary>
    internal static Dictionary<string, object> LogScope(string requestId, string rpc) => new() { ["RequestId"] = requestId, ["Rpc"] = rpc };

    /// <summary>Caller ids are echoed and logged: accept short printable ASCII only.</summary>
    internal static bool IsUsable(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= 128 && id.All(c => c is > ' ' and < (char)127);

    /// <summary>Whether a request is a gRPC call or a JSON call of a transcoded route (the metrics and OpenAPI endpoints' are not).</summary>
    internal static bool IsServiceCall(HttpRequest request) => IsGrpcCall(request) || RestApi.IsRestCall(request);

    /// <summary>Whether a request is a gRPC call (the metrics endpoint's are not).</summary>
    internal static bool IsGrpcCall(HttpRequest request) =>
        request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Gives every gRPC call its request id before any other middleware or the gRPC framework can answer it.</summary>
internal sealed class RequestIdMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (RequestIds.IsServiceCall(context.Request)) RequestIds.Of(context);
        return next(context);
    }
}
