namespace Dermxai.Server.Viewer;

/// <summary>
/// The clinicians' viewer (section "Dermxai:Viewer"; switches --viewer and --viewer-url): off unless
/// enabled. Browsers speak plaintext HTTP/1.1 only, and the gRPC endpoints speak HTTP/2 only, so the
/// viewer has an HTTP/1.1 endpoint of its own that serves the page and the JSON routes (/v1/...).
/// </summary>
public sealed class ViewerOptions
{
    public const string Section = "Dermxai:Viewer";
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Serve the viewer.</summary>
    public bool Enabled { get; set; }
    /// <summary>The viewer's endpoint: HTTP/1.1, plaintext for http://, TLS (Dermxai:Tls) for https://.</summary>
    public string Url { get; set; } = DefaultUrl;
}
