using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MLPipelines.Testing;

namespace MLPipelines.Tests.TestKit;

/// <summary>The test server itself: the remote cache's tests rely on it serving PUT, GET, HEAD and Basic auth as a real one does.</summary>
public sealed class NginxServerTests
{
    [NginxFact]
    public async Task ServesPutGetAndHeadUnderTheBaseUrlAndKeepsTheFilesInItsDataFolder()
    {
        using var server = NginxServer.Start();
        using var http = new HttpClient();

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"{server.BaseUrl}/cas/ab/missing")).StatusCode);
        var put = await http.PutAsync($"{server.BaseUrl}/cas/ab/cdef", new ByteArrayContent(Encoding.UTF8.GetBytes("hello")));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal("hello", await http.GetStringAsync($"{server.BaseUrl}/cas/ab/cdef"));
        var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{server.BaseUrl}/cas/ab/cdef"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(5, head.Content.Headers.ContentLength);
        Assert.Equal(["cas/ab/cdef"], server.StoredFiles());
        Assert.Equal(1, server.Requests("PUT"));
    }

    [NginxFact]
    public async Task WithBasicAuthRefusesAnonymousRequestsAndAcceptsTheCredentials()
    {
        using var server = NginxServer.Start("ci", "s3cret");
        using var http = new HttpClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PutAsync($"{server.BaseUrl}/ac/k", new StringContent("x"))).StatusCode);
        var request = new HttpRequestMessage(HttpMethod.Put, $"{server.BaseUrl}/ac/k") { Content = new StringContent("x") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("ci:s3cret")));
        Assert.Equal(HttpStatusCode.Created, (await http.SendAsync(request)).StatusCode);
    }

    [NginxFact]
    public async Task AStoppedServerRefusesConnections()
    {
        using var server = NginxServer.Start();
        server.Stop();
        using var http = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"{server.BaseUrl}/ac/k"));
    }
}
