using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace Dermxai.Server.Security;

/// <summary>
/// A request body that is not a valid protobuf message fails inside Grpc.AspNetCore before any
/// interceptor runs, and the framework answers UNKNOWN ("Exception was thrown by handler"). Every
/// exception of the service itself is mapped to a status by <see cref="CallInterceptor"/>, so an
/// UNKNOWN on a Dermxai call can only come from there: this rewrites it to INVALID_ARGUMENT with a
/// sentence, as the contract promises for malformed input (found by tests/Hardening.Tests). In streams
/// the service reads the messages itself, so there the interceptor's mapping uses <see cref="IsMalformedMessage"/>.
/// </summary>
internal sealed class MalformedMessageMiddleware(RequestDelegate next, ILogger<MalformedMessageMiddleware> logger)
{
    private const string DermxaiServicePrefix = "/dermxai.v1.DermxaiService/";
    internal const string Sentence = "The request is not a valid dermxai.v1 protobuf message.";
    private const string DetailsHeaderName = "grpc-status-details-bin";
    private static readonly string Details = ErrorMapping.DetailsHeader(StatusCode.InvalidArgument, Engine.ErrorReasons.MalformedMessage, Sentence);
    private static readonly string Unknown = ((int)StatusCode.Unknown).ToString(System.Globalization.CultureInfo.InvariantCulture);
    private static readonly string InvalidArgument = ((int)StatusCode.InvalidArgument).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Whether a failure is a request message that could not be parsed (possibly as the cause of another).</summary>
    internal static bool IsMalformedMessage(Exception e) =>
        e is Google.Protobuf.InvalidProtocolBufferException || e.InnerException is Google.Protobuf.InvalidProtocolBufferException;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(DermxaiServicePrefix.TrimEnd('/')))
        {
            await next(context);
            return;
        }
        context.Response.OnStarting(() => RewriteHeaders(context));
        await next(context);
        RewriteTrailers(context);
    }

    /// <summary>A failure before any response message is a trailers-only response: the status is in the headers.</summary>
    private Task RewriteHeaders(HttpContext context)
    {
        if (Rewrite(context.Response.Headers)) Log(context);
        return Task.CompletedTask;
    }

    private void RewriteTrailers(HttpContext context)
    {
        var trailers = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        if (trailers is { IsReadOnly: false } && Rewrite(trailers)) Log(context);
    }

    private static bool Rewrite(IHeaderDictionary headers)
    {
        if (headers["grpc-status"] != Unknown) return false;
        headers["grpc-status"] = InvalidArgument;
        headers["grpc-message"] = Sentence;
        headers[DetailsHeaderName] = Details;
        return true;
    }

    private void Log(HttpContext context)
    {
        logger.LogInformation("{Rpc} {RequestId} InvalidArgument: {Detail}", RpcLabels.Of(context.Request.Path.Value), RequestIds.Of(context), Sentence);
    }
}
