using System.Net;
using System.Net.Http.Headers;

namespace Dermxai.Viewer.Tests;

/// <summary>
/// The viewer's endpoint over plain HTTP/1.1, without a browser: off by default; when on, the page with a
/// closed content-security policy, the JSON routes behind the same bearer tokens, and nothing else.
/// </summary>
public sealed class ViewerEndpointTests
{
    private static async Task<HttpResponseMessage> GetAsync(string url, string? token = null)
    {
        using var http = new HttpClient { DefaultRequestVersion = HttpVersion.Version11 };
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }

    [Test]
    public async Task The_viewer_is_off_unless_switched_on()
    {
        await using var server = await ViewerServer.StartAsync("--viewer", "false");
        Assert.That(server.Addresses, Has.Length.EqualTo(1), "only the gRPC endpoint listens");
    }

    [Test]
    public async Task The_viewer_endpoint_serves_the_page_and_the_json_routes_only()
    {
        await using var server = await ViewerServer.StartAsync();
        using var page = await GetAsync(server.ViewerUrl + "/");
        Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await page.Content.ReadAsStringAsync(), Does.Contain("viewer.js"));
        Assert.That(page.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("default-src 'none'").And.Contain("connect-src 'self'"));
        foreach (string file in new[] { "/viewer.js", "/viewer.css", "/model-card", "/v1/model" })
        {
            using var response = await GetAsync(server.ViewerUrl + file);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), file);
        }
        using var card = await GetAsync(server.ViewerUrl + "/model-card");
        Assert.That(await card.Content.ReadAsStringAsync(), Does.Contain("NEVER FOR DIAGNOSIS"));
        using var other = await GetAsync(server.ViewerUrl + "/openapi/v1.json");
        Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task The_json_routes_on_the_viewer_endpoint_need_the_same_bearer_token()
    {
        string folder = Directory.CreateTempSubdirectory("dermxai-viewer-tokens-").FullName;
        string tokens = Path.Combine(folder, "tokens");
        await File.WriteAllTextAsync(tokens, "viewer-token-81d2\n");
        try
        {
            await using var server = await ViewerServer.StartAsync($"--Dermxai:Auth:TokenFile={tokens}");
            using var page = await GetAsync(server.ViewerUrl + "/");
            using var refused = await GetAsync(server.ViewerUrl + "/v1/model");
            using var accepted = await GetAsync(server.ViewerUrl + "/v1/model", "viewer-token-81d2");
            Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the page itself holds no data");
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
