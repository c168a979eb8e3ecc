using Grpc.AspNetCore.Server;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.OpenApi.Models;

namespace Dermxai.Server;

/// <summary>
/// JSON/HTTP for systems without gRPC: gRPC JSON transcoding of the proto's google.api.http routes
/// (POST /v1/classify, POST /v1/explain, GET /v1/model) through the same service, interceptor and
/// errors, and the OpenAPI document of those routes at <see cref="OpenApiPath"/>.
/// </summary>
internal static class RestApi
{
    /// <summary>The first path segment of every transcoded route.</summary>
    internal const string Prefix = "/v1";
    internal const string OpenApiPath = "/openapi/v1.json";

    private static readonly JsonFormatter StatusJson = new(JsonFormatter.Settings.Default.WithTypeRegistry(ErrorMapping.DetailTypes));

    internal static void AddDermxaiRest(this IServiceCollection services, IGrpcServerBuilder grpc)
    {
        grpc.AddJsonTranscoding(o => o.TypeRegistry = ErrorMapping.DetailTypes);
        services.AddGrpcSwagger();
        services.AddSwaggerGen(o => o.SwaggerDoc("v1", new OpenApiInfo
        {
            Title = "Dermxai",
            Version = "v1",
            Description = "Explain Vision Transformer skin-photo classifications (proto/dermxai/v1/dermxai.proto over JSON). " +
                "Errors are google.rpc.Status bodies with ErrorInfo reasons (docs/contract.md).",
        }));
    }

    /// <summary>Bounds and completes the error bodies of the JSON routes (<see cref="RestErrorBodyMiddleware"/>).</summary>
    internal static void UseDermxaiRestErrorBounds(this WebApplication app) => app.UseMiddleware<RestErrorBodyMiddleware>();

    internal static void MapDermxaiOpenApi(this WebApplication app) =>
        app.UseSwagger(o => o.RouteTemplate = "openapi/{documentName}.json");

    /// <summary>Whether a request is for a transcoded JSON route.</summary>
    internal static bool IsRestCall(HttpRequest request) => request.Path.StartsWithSegments(Prefix);

    /// <summary>A refusal answered before the service runs (authentication): the google.rpc.Status JSON body.</summary>
    internal static Task WriteStatusAsync(HttpContext context, StatusCode code, string reason, string message)
    {
        var status = ErrorMapping.Create(code, reason, null, message);
        context.Response.StatusCode = HttpStatusOf(code);
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(StatusJson.Format(status));
    }

    /// <summary>The HTTP status of a gRPC code, as google.api's mapping (and JSON transcoding) has it.</summary>
    internal static int HttpStatusOf(StatusCode code) => code switch
    {
        StatusCode.OK => 200,
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange => 400,
        StatusCode.Unauthenticated => 401,
        StatusCode.PermissionDenied => 403,
        StatusCode.NotFound => 404,
        StatusCode.AlreadyExists or StatusCode.Aborted => 409,
        StatusCode.ResourceExhausted => 429,
        StatusCode.Cancelled => 499,
        StatusCode.Unimplemented => 501,
        StatusCode.Unavailable => 503,
        StatusCode.DeadlineExceeded => 504,
        _ => 500,
    };
}
