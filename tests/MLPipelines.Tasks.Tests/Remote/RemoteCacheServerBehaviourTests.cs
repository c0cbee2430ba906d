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
/// Servers that answer, but not as a cache does (200 to everything, redirects, huge or hostile entries, no answer at
/// all), and builds that must not overwrite each other's entries.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class RemoteCacheServerBehaviourTests : IDisposable
{
    private readonly NginxServer _server = NginxServer.Start();
    private readonly PipelineHarness _first = new();
    private readonly PipelineHarness _second = new();

    public void Dispose()
    {
        _server.Dispose();
        _first.Dispose();
        _second.Dispose();
    }

    private static Func<PipelineOptions, PipelineOptions> With(RemoteCacheOptions remote, int parallelism = 1) =>
        o => o with { RemoteCache = remote, MaxParallelism = parallelism };

    private static void Steps(PipelineHarness pipeline, int count)
    {
        for (var i = 0; i < count; i++)
        {
            pipeline.Step($"s{i}", $"echo {i} > s{i}.txt", ("Outputs", $"s{i}.txt"));
        }
    }

    private string EntryFile(string key) => Path.Combine(_server.DataDirectory, "ac", key);

    [NginxFact]
    public async Task AnEntryOverTheSizeLimitIsRefusedForItsStepOnlyWithoutRetriesAndIsReplaced()
    {
        Steps(_first, 3);
        Steps(_second, 3);
        var first = await _first.RunAsync(With(RemoteCacheTests.Remote(_server.BaseUrl)));
        foreach (var step in first.Result.Steps)
        {
            using var file = File.Open(EntryFile(step.Key!), FileMode.Create);
            file.SetLength(RemoteCacheClient.MaxEntryBytes + 1L); // Sparse: 64 MiB and a byte of zeros.
        }

        var gets = _server.Requests("GET");

        var second = await _second.RunAsync(With(RemoteCacheTests.Remote(_server.BaseUrl)));

        Assert.True(second.Result.Succeeded, second.Log.ToString());
        Assert.Equal(3, second.Log.Warnings.Count);
        Assert.All(second.Log.Warnings, w =>
        {
            Assert.Equal(ErrorCodes.RemoteEntryInvalid, w.Code);
            Assert.Contains($"'{w.Step}'", w.Message, StringComparison.Ordinal);
            Assert.Contains($"entry larger than {RemoteCacheClient.MaxEntryBytes}", w.Message, StringComparison.Ordinal);
        });
        Assert.Equal(3, gets == 0 ? _server.Requests("GET") : _server.Requests("GET") - gets); // One GET a step: no retries.
        Assert.DoesNotContain(second.Log.Details, d => d.Contains("not tried again", StringComparison.Ordinal));
        // The breaker stayed closed, and each refused entry was replaced by this build's good one.
        Assert.Equal(3, second.Result.RemoteUploads);
        Assert.All(first.Result.Steps, s => Assert.True(new FileInfo(EntryFile(s.Key!)).Length < 10_000));
    }

    [NginxFact]
    public async Task AServerAnswering200ToEverythingIsAFailingServerNotAnEntryPerStep()
    {
        Steps(_first, 4);

        var run = await _first.RunAsync(With(RemoteCacheTests.Remote(_server.AllOkUrl)));

        Assert.True(run.Result.Succeeded, run.Log.ToString());
        var warning = Assert.Single(run.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteServerError, warning.Code);
        Assert.Contains("not a cache entry", warning.Message, StringComparison.Ordinal);
        Assert.Equal(0, run.Result.RemoteUploads);
        Assert.DoesNotContain(run.Log.Messages, m => m.Contains("Uploaded", StringComparison.Ordinal));
        Assert.Equal(0, _server.Requests("PUT"));
        Assert.Equal(RemoteCacheClient.BreakerMinimumThroughput, _server.Requests("GET")); // The fourth lookup is not sent.
        Assert.Contains(run.Log.Details, d => d.Contains("not tried again in this build", StringComparison.Ordinal));
    }

    [NginxFact]
    public async Task ARedirectIsNotFollowedAndCountsAsAServerFailure()
    {
        Steps(_first, 4);

        var run = await _first.RunAsync(With(RemoteCacheTests.Remote(_server.RedirectUrl)));

        Assert.True(run.Result.Succeeded, run.Log.ToString());
        var warning = Assert.Single(run.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteServerError, warning.Code);
        Assert.Contains("302", warning.Message, StringComparison.Ordinal);
        Assert.Equal(0, _server.RequestsTo("/login"));
        Assert.Equal(0, run.Result.RemoteUploads);
        Assert.Equal(RemoteCacheClient.BreakerMinimumThroughput, _server.Requests("GET"));
    }

    [NginxFact]
    public async Task InWriteModeARedirectedHeadOrPutIsNotFollowedAndNothingCountsAsUploaded()
    {
        Steps(_first, 1);

        var run = await _first.RunAsync(With(RemoteCacheTests.Remote(_server.RedirectUrl, "Write")));

        Assert.True(run.Result.Succeeded, run.Log.ToString());
        Assert.Equal(ErrorCodes.RemoteServerError, Assert.Single(run.Log.Warnings).Code);
        Assert.Equal(0, _server.RequestsTo("/login"));
        Assert.Equal(0, run.Result.RemoteUploads);
    }

    [NginxFact]
    public async Task AHeadAnswered200WithAnotherSizeIsNotAnObjectPresent()
    {
        // ac/ is a real cache; cas/ answers every HEAD with a 200 login page.
        _first.Step("a", "head -c 5000 /dev/urandom > a.bin", ("Outputs", "a.bin"));

        var run = await _first.RunAsync(With(RemoteCacheTests.Remote(_server.MixedUrl)));

        run.AssertOutcome("a", StepOutcome.Executed).AssertNoDiagnostics();
        Assert.Equal(1, run.Result.RemoteUploads);
        Assert.Equal(2, _server.Requests("PUT")); // The object (HEAD did not find it) and the entry.
    }

    [NginxFact]
    public async Task AForcedStepDoesNotReplaceAValidEntryOnTheServer()
    {
        const string Stamp = "mkdir -p out && date +%s%N > out/stamp.txt";
        _first.Step("produce", Stamp, ("Outputs", "out/"));
        _second.Step("produce", Stamp, ("Outputs", "out/"));
        var first = await _first.RunAsync(With(RemoteCacheTests.Remote(_server.BaseUrl)));
        var path = EntryFile(first["produce"].Key!);
        var bytes = File.ReadAllBytes(path);
        var written = File.GetLastWriteTimeUtc(path);
        var puts = _server.Requests("PUT");

        var forced = await _second.RunAsync(o => With(RemoteCacheTests.Remote(_server.BaseUrl))(o) with { ForcedSteps = ["produce"] });

        forced.AssertOutcome("produce", StepOutcome.Executed).AssertNoDiagnostics();
        Assert.Equal(0, forced.Result.RemoteUploads);
        Assert.Equal(puts, _server.Requests("PUT"));
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Equal(written, File.GetLastWriteTimeUtc(path));
    }

    [NginxTheory]
    [InlineData(1_000_000_000_000_000L)]
    [InlineData(-1L)]
    public async Task AHostileSizeInAManifestIsRefusedForTheStep(long size)
    {
        _first.Step("a", "head -c 5000 /dev/urandom > a.bin", ("Outputs", "a.bin"));
        _second.Step("a", "head -c 5000 /dev/urandom > a.bin", ("Outputs", "a.bin"));
        var first = await _first.RunAsync(With(RemoteCacheTests.Remote(_server.BaseUrl)));
        var entry = _first.OpenStoreEntry(first["a"].Key!);
        File.WriteAllBytes(EntryFile(entry.Key), RemoteEntry.Serialize(entry with { Manifest = [.. entry.Manifest.Select(f => f with { Size = size })] }, null));

        var second = await _second.RunAsync(With(RemoteCacheTests.Remote(_server.BaseUrl)));

        second.AssertOutcome("a", StepOutcome.Executed);
        var warning = Assert.Single(second.Log.Warnings);
        Assert.Equal("a", warning.Step);
        if (size < 0)
        {
            Assert.Equal(ErrorCodes.RemoteEntryInvalid, warning.Code);
            Assert.Contains("invalid size -1", warning.Message, StringComparison.Ordinal);
        }
        else
        {
            // The object's size on the server is not the manifest's: refused as not matching, never an unexpected failure.
            Assert.Contains(warning.Code, new[] { ErrorCodes.RemoteEntryInvalid, ErrorCodes.RemoteObjectTampered });
        }
    }

    [NginxFact]
    public async Task AServerThatNeverAnswersIsAskedOnceAndThenNotAgainInThisBuild()
    {
        using var silent = new SilentListener();
        Steps(_first, 3);

        var run = await _first.RunAsync(With(RemoteCacheTests.Remote(silent.BaseUrl) with { RequestTimeout = TimeSpan.FromSeconds(1) }));

        Assert.True(run.Result.Succeeded, run.Log.ToString());
        Assert.All(run.Result.Steps, s => Assert.Equal(StepOutcome.Executed, s.Outcome));
        Assert.Equal(ErrorCodes.RemoteTimeout, Assert.Single(run.Log.Warnings).Code);
        Assert.Equal(1, silent.Connections);
        Assert.Contains(run.Log.Details, d => d.Contains("not tried again in this build", StringComparison.Ordinal));
    }

    /// <summary>Accepts every connection, counts it, reads nothing and never answers.</summary>
    private sealed class SilentListener : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly ConcurrentBag<TcpClient> _clients = [];
        private readonly Task _loop;

        public SilentListener()
        {
            _listener.Start();
            BaseUrl = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/cache";
            _loop = Task.Run(async () =>
            {
                while (true)
                {
                    try
                    {
                        _clients.Add(await _listener.AcceptTcpClientAsync());
                    }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException)
                    {
                        return;
                    }
                }
            });
        }

        public string BaseUrl { get; }

        public int Connections => _clients.Count;

        public void Dispose()
        {
            _listener.Stop();
            _loop.Wait(TimeSpan.FromSeconds(5));
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }
    }
}
