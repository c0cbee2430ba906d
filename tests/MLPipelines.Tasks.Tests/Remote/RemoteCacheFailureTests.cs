using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Remote;
using MLPipelines.Tasks.Tests.TestKit;
using MLPipelines.Testing;

namespace MLPipelines.Tasks.Tests.Remote;

/// <summary>
/// A misbehaving server never fails the build: one warning per kind, local-only, and after repeated failures no more
/// requests. Where nginx cannot show a fault (a server that never answers, one that answers 500, the headers a client
/// sent), a tiny listener stands in.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class RemoteCacheFailureTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    private static Func<PipelineOptions, PipelineOptions> With(RemoteCacheOptions remote, int parallelism = 4) =>
        o => o with { RemoteCache = remote, MaxParallelism = parallelism };

    [NginxFact]
    public async Task AfterRepeatedFailuresTheServerIsNotAskedAgainInThisBuild()
    {
        using var server = NginxServer.Start("ci", "pass"); // No credentials given: every request is a 401.
        for (var i = 0; i < 8; i++)
        {
            _pipeline.Step($"s{i}", $"echo {i} > s{i}.txt", ("Outputs", $"s{i}.txt"));
        }

        var run = await _pipeline.RunAsync(With(RemoteCacheTests.Remote(server.BaseUrl), parallelism: 1));

        Assert.True(run.Result.Succeeded, run.Log.ToString());
        Assert.Equal(ErrorCodes.RemoteAuthFailed, Assert.Single(run.Log.Warnings).Code);
        // Eight lookups and eight uploads wanted; the breaker let through only the attempts that opened it.
        var requests = server.Requests("GET") + server.Requests("HEAD") + server.Requests("PUT");
        Assert.True(requests <= RemoteCacheClient.BreakerMinimumThroughput, $"{requests} requests reached the server.");
        Assert.Contains(run.Log.Details, d => d.Contains("not tried again in this build", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(RemoteCacheOptions.UserVariable, RemoteCacheOptions.PasswordVariable)]
    [InlineData(RemoteCacheOptions.PasswordVariable, RemoteCacheOptions.UserVariable)]
    public async Task MLP5004WithHalfOfTheBasicCredentialsNamesTheMissingHalf(string given, string missing)
    {
        using var listener = new AnsweringListener(HttpStatusCode.Unauthorized);
        _pipeline.Step("a", "echo a > a.txt", ("Outputs", "a.txt"));

        var run = await _pipeline.RunAsync(With(RemoteCacheTests.Remote(listener.BaseUrl, "Read", new() { [given] = "half-secret" })));

        run.AssertOutcome("a", StepOutcome.Executed);
        var warning = Assert.Single(run.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteAuthFailed, warning.Code);
        Assert.Contains($"{given} is set but {missing} is missing", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("none were given", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("half-secret", warning.Message, StringComparison.Ordinal);
        Assert.Null(Assert.Single(listener.Requests).Authorization);
    }

    [Fact]
    public async Task ABearerTokenIsSentAsTheAuthorizationHeader()
    {
        using var listener = new AnsweringListener(HttpStatusCode.NotFound);
        _pipeline.Step("a", "echo a > a.txt", ("Outputs", "a.txt"));

        var run = await _pipeline.RunAsync(With(RemoteCacheTests.Remote(listener.BaseUrl, "Read", new() { [RemoteCacheOptions.TokenVariable] = "tok-123" })));

        run.AssertOutcome("a", StepOutcome.Executed).AssertNoDiagnostics();
        var request = Assert.Single(listener.Requests);
        Assert.Equal("GET /cache/ac/" + run["a"].Key, request.Line);
        Assert.Equal("Bearer tok-123", request.Authorization);
    }

    [Fact]
    public async Task AServerAnswering500GivesOneWarningAndTheBuildGoesOnLocally()
    {
        using var listener = new AnsweringListener(HttpStatusCode.InternalServerError);
        _pipeline.Step("a", "echo a > a.txt", ("Outputs", "a.txt"));

        var run = await _pipeline.RunAsync(With(RemoteCacheTests.Remote(listener.BaseUrl)));

        run.AssertOutcome("a", StepOutcome.Executed);
        var warning = Assert.Single(run.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteServerError, warning.Code);
        Assert.Contains("500", warning.Message, StringComparison.Ordinal);
        Assert.Empty(run.Log.Errors);
    }

    [Fact]
    public async Task AServerThatNeverAnswersTimesOutWithOneWarning()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(); // Accepts connections (the backlog) and never answers.
        var url = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/cache";
        _pipeline.Step("a", "echo a > a.txt", ("Outputs", "a.txt"));

        var run = await _pipeline.RunAsync(With(RemoteCacheTests.Remote(url) with { RequestTimeout = TimeSpan.FromSeconds(1) }));

        run.AssertOutcome("a", StepOutcome.Executed);
        Assert.True(run.Result.Succeeded);
        Assert.Equal(ErrorCodes.RemoteTimeout, Assert.Single(run.Log.Warnings).Code);
    }

    /// <summary>An HTTP listener that answers every request with one status and records the request line and Authorization header.</summary>
    private sealed class AnsweringListener : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;

        public AnsweringListener(HttpStatusCode status)
        {
            // The free port is probed and then bound: another test may take it in between, so a taken port is
            // probed again rather than failing the test.
            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort();
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                try
                {
                    _listener.Start();
                    BaseUrl = $"http://127.0.0.1:{port}/cache";
                    break;
                }
                catch (HttpListenerException) when (attempt < 5)
                {
                }
            }

            _loop = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                    {
                        return;
                    }

                    Requests.Enqueue(($"{context.Request.HttpMethod} {context.Request.Url!.AbsolutePath}", context.Request.Headers["Authorization"]));
                    context.Response.StatusCode = (int)status;
                    context.Response.Close();
                }
            });
        }

        public string BaseUrl { get; }

        public ConcurrentQueue<(string Line, string? Authorization)> Requests { get; } = new();

        public void Dispose()
        {
            // Close alone: Stop then Close unregisters the prefix twice, and the managed listener's second
            // unregistration binds the port again, which fails ("Address already in use") once another test holds it.
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }

        private static int FreePort()
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
    }
}
