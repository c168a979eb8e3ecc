using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Dermxai.Hardening.Tests.Support;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dermxai.Hardening.Tests.Hostile;

/// <summary>
/// The server under attack: by default a real server started in this process on the golden small model;
/// with DERMXAI_HOSTILE_URL (and DERMXAI_HOSTILE_PID for its memory and CPU) an already running server,
/// e.g. one serving models/default (docs/memory.md).
/// </summary>
internal sealed class HostileTarget : IAsyncDisposable
{
    private readonly TestServer? _own;
    private readonly HttpClient _http;

    private HostileTarget(string url, ProcessProbe? probe, TestServer? own)
    {
        Url = url;
        Probe = probe;
        _own = own;
        Channel = GrpcChannel.ForAddress(url, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
            MaxReceiveMessageSize = 256 * 1024 * 1024,
            MaxSendMessageSize = 256 * 1024 * 1024,
        });
        Client = new Protocol.V1.DermxaiService.DermxaiServiceClient(Channel);
        _http = new HttpClient(new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(60) };
    }

    internal string Url { get; }
    /// <summary>The server's process; null when it runs elsewhere (no memory or CPU figures then).</summary>
    internal ProcessProbe? Probe { get; }
    internal bool InProcess => _own is not null;
    internal GrpcChannel Channel { get; }
    internal Protocol.V1.DermxaiService.DermxaiServiceClient Client { get; }

    internal static async Task<HostileTarget> StartAsync()
    {
        string? url = Environment.GetEnvironmentVariable("DERMXAI_HOSTILE_URL");
        if (!string.IsNullOrEmpty(url))
        {
            string? pid = Environment.GetEnvironmentVariable("DERMXAI_HOSTILE_PID");
            return new HostileTarget(url, int.TryParse(pid, out int p) && ProcessProbe.Available ? new ProcessProbe(p) : null, null);
        }
        var server = await TestServer.StartAsync([]);
        return new HostileTarget(server.Url, ProcessProbe.Available ? ProcessProbe.Self : null, server);
    }

    /// <summary>
    /// A Classify message sent as gRPC's gzip encoding whose body inflates to <paramref name="inflated"/>
    /// zero bytes (written by hand: a gRPC client would compress a real message). Throws RpcException
    /// with the server's status unless it is OK.
    /// </summary>
    internal async Task SendGzipBombAsync(int inflated)
    {
        var gzip = HostileCases.GzipOfZeros(inflated);
        var frame = new byte[5 + gzip.Length];
        frame[0] = 1;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)gzip.Length);
        gzip.CopyTo(frame, 5);
        using var request = new HttpRequestMessage(HttpMethod.Post, Url + "/dermxai.v1.DermxaiService/Classify")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(frame),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.Add("grpc-encoding", "gzip");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        using var response = await _http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        string? status = Header(response.TrailingHeaders, "grpc-status") ?? Header(response.Headers, "grpc-status");
        var code = status is null ? StatusCode.Unknown : (StatusCode)int.Parse(status);
        if (code != StatusCode.OK)
            throw new RpcException(new Status(code, Header(response.TrailingHeaders, "grpc-message") ?? Header(response.Headers, "grpc-message") ?? ""));
    }

    private static string? Header(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        Channel.Dispose();
        if (_own is not null) await _own.DisposeAsync();
    }
}
