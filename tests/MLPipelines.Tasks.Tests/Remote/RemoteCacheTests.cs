using System.Runtime.Versioning;
using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Remote;
using MLPipelines.Engine.Store;
using MLPipelines.Tasks.Tests.TestKit;
using MLPipelines.Testing;

namespace MLPipelines.Tasks.Tests.Remote;

/// <summary>
/// The remote cache against a real nginx (WebDAV PUT): two checkouts with their own stores share results through it,
/// and nothing a server holds is restored unless it is the asked key's, well-formed, signed when a key is set, and
/// every object matches its hash.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class RemoteCacheTests : IDisposable
{
    // A step with a 3 MB output (streamed both ways) and a small one in a folder.
    private const string Produce = "mkdir -p out && head -c 3000000 /dev/urandom > out/big.bin && echo \"$PARAM_X\" > out/small.txt";

    private readonly NginxServer _server = NginxServer.Start();
    private readonly PipelineHarness _first = new();
    private readonly PipelineHarness _second = new();

    public void Dispose()
    {
        _server.Dispose();
        _first.Dispose();
        _second.Dispose();
    }

    internal static RemoteCacheOptions Remote(string url, string mode = "ReadWrite", Dictionary<string, string>? environment = null)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var options = RemoteCacheOptions.Parse(url, mode, name => environment?.GetValueOrDefault(name), diagnostics);
        Assert.Empty(diagnostics);
        return options!;
    }

    private static Func<PipelineOptions, PipelineOptions> With(RemoteCacheOptions remote) => o => o with { RemoteCache = remote };

    private static PipelineHarness Declare(PipelineHarness pipeline, string x = "1")
    {
        pipeline.Step("produce", Produce, ("Outputs", "out/"), ("Parameters", $"X={x}"));
        return pipeline;
    }

    private static byte[] Bytes(PipelineHarness pipeline, string path) => File.ReadAllBytes(pipeline.Project.Combine(path));

    [NginxFact]
    public async Task ASecondCheckoutRestoresTheFirstOnesResultByteForByteWithoutExecuting()
    {
        var first = await Declare(_first).RunAsync(With(Remote(_server.BaseUrl)));
        first.AssertOutcome("produce", StepOutcome.Executed).AssertNoDiagnostics();
        first.AssertMessage("Uploaded 1 entry to the remote cache.");
        Assert.Equal(1, first.Result.RemoteUploads);
        Assert.Contains($"ac/{first["produce"].Key}", _server.StoredFiles());
        Assert.Equal(3, _server.StoredFiles().Count); // The entry and two objects.

        var second = await Declare(_second).RunAsync(With(Remote(_server.BaseUrl)));

        second.AssertOutcome("produce", StepOutcome.Cached).AssertNoDiagnostics();
        second.AssertMessage("Using cached version of produce (remote).");
        Assert.True(second["produce"].Remote);
        Assert.Equal(Bytes(_first, "out/big.bin"), Bytes(_second, "out/big.bin"));
        Assert.Equal(Bytes(_first, "out/small.txt"), Bytes(_second, "out/small.txt"));
        Assert.Empty(second.Log.StepOutputs);
        using (var store = _second.OpenStore())
        {
            Assert.Equal(1, store.ListRuns(1)[0].RemoteHits);
            Assert.NotNull(store.FindEntry(first["produce"].Key!)); // Now a local entry: the next build needs no server.
        }

        using (var store = _first.OpenStore())
        {
            Assert.Equal(1, store.ListRuns(1)[0].RemoteUploads);
        }

        // The second checkout's next build is a local hit: the server is not asked again.
        var gets = _server.Requests("GET");
        var third = await Declare(_second).RunAsync(With(Remote(_server.BaseUrl)));
        third.AssertOutcome("produce", StepOutcome.Cached).AssertNoDiagnostics();
        third.AssertMessage("Using cached version of produce.");
        Assert.False(third["produce"].Remote);
        Assert.Equal(gets, _server.Requests("GET"));
        Assert.Equal(2, _server.Requests("HEAD")); // Only the first upload's, one per object.
    }

    [NginxFact]
    public async Task AChainOfStepsIsRestoredRemotelyInOrderAndEveryStepIsARemoteHit()
    {
        foreach (var pipeline in new[] { _first, _second })
        {
            pipeline.Step("load", "mkdir -p data && head -c 200000 /dev/urandom > data/raw.bin", ("Outputs", "data/"));
            pipeline.Step("train", "mkdir -p model && md5sum data/raw.bin > model/m.txt", ("Inputs", "data/raw.bin"), ("Outputs", "model/"));
            pipeline.Step("report", "wc -c model/m.txt > report.txt", ("Inputs", "model/m.txt"), ("Outputs", "report.txt"));
        }

        var first = await _first.RunAsync(With(Remote(_server.BaseUrl)));
        Assert.Equal(3, first.Result.RemoteUploads);

        var second = await _second.RunAsync(With(Remote(_server.BaseUrl)));

        Assert.All(second.Result.Steps, s => Assert.True(s.Outcome == StepOutcome.Cached && s.Remote, $"{s.Name}: {s.Outcome}\n{second.Log}"));
        second.AssertNoDiagnostics();
        Assert.Equal(_first.Project.Read("report.txt"), _second.Project.Read("report.txt"));
        Assert.Equal(Bytes(_first, "data/raw.bin"), Bytes(_second, "data/raw.bin"));
        using var store = _second.OpenStore();
        Assert.Equal(3, store.ListRuns(1)[0].RemoteHits);
    }

    [NginxFact]
    public async Task ReadModeUploadsNothing()
    {
        var run = await Declare(_first).RunAsync(With(Remote(_server.BaseUrl, "Read")));

        run.AssertOutcome("produce", StepOutcome.Executed).AssertNoDiagnostics();
        Assert.Equal(0, run.Result.RemoteUploads);
        Assert.Equal(1, _server.Requests("GET")); // It did look.
        Assert.Equal(0, _server.Requests("PUT") + _server.Requests("HEAD"));
        Assert.Empty(_server.StoredFiles());
    }

    [NginxFact]
    public async Task WriteModeDownloadsNothing()
    {
        await Declare(_first).RunAsync(With(Remote(_server.BaseUrl)));
        var gets = _server.Requests("GET");
        var puts = _server.Requests("PUT");

        var second = await Declare(_second).RunAsync(With(Remote(_server.BaseUrl, "Write")));

        second.AssertOutcome("produce", StepOutcome.Executed).AssertNoDiagnostics();
        Assert.Equal(gets, _server.Requests("GET"));
        // Its HEAD finds the first checkout's entry, which is never overwritten: nothing is sent.
        Assert.Equal(0, second.Result.RemoteUploads);
        Assert.Equal(puts, _server.Requests("PUT"));
    }

    [NginxFact]
    public async Task AServerThatIsDownGivesOneWarningAndTheBuildGoesOnLocally()
    {
        _server.Stop();
        _first.Step("a", "echo a > a.txt", ("Outputs", "a.txt"));
        _first.Step("b", "cat a.txt > b.txt", ("Inputs", "a.txt"), ("Outputs", "b.txt"));
        _first.Step("c", "echo c > c.txt", ("Outputs", "c.txt"));

        var run = await _first.RunAsync(With(Remote(_server.BaseUrl)));

        Assert.True(run.Result.Succeeded, run.Log.ToString());
        Assert.All(run.Result.Steps, s => Assert.Equal(StepOutcome.Executed, s.Outcome));
        var warning = Assert.Single(run.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteUnreachable, warning.Code);
        Assert.Contains(_server.BaseUrl, warning.Message, StringComparison.Ordinal);
        Assert.Empty(run.Log.Errors);
        Assert.Equal(0, run.Result.RemoteUploads);

        var again = await _first.RunAsync(With(Remote(_server.BaseUrl)));
        Assert.All(again.Result.Steps, s => Assert.Equal(StepOutcome.Cached, s.Outcome)); // Stored locally all the same.
        Assert.Empty(again.Log.Warnings); // Local hits never ask the server.
    }

    [NginxFact]
    public async Task ATamperedObjectIsNeverRestoredAndTheStepExecutes()
    {
        var first = await Declare(_first).RunAsync(With(Remote(_server.BaseUrl)));
        var bigHash = _first.OpenStoreEntry(first["produce"].Key!).Manifest.Single(f => f.Path == "out/big.bin").Hash;
        var onServer = Path.Combine(_server.DataDirectory, "cas", bigHash);
        var tampered = File.ReadAllBytes(onServer);
        tampered[1234] ^= 0xFF; // Same size, other content.
        File.WriteAllBytes(onServer, tampered);

        var second = await Declare(_second).RunAsync(With(Remote(_server.BaseUrl)));

        second.AssertOutcome("produce", StepOutcome.Executed);
        Assert.Equal(ErrorCodes.RemoteObjectTampered, Assert.Single(second.Log.Warnings).Code);
        Assert.Contains(bigHash, second.Log.Warnings[0].Message, StringComparison.Ordinal);
        Assert.NotEqual(tampered, Bytes(_second, "out/big.bin")); // The step's own output, not the server's.
        using var store = _second.OpenStore();
        Assert.False(store.Objects.Contains(bigHash) && File.ReadAllBytes(store.Objects.PathOf(bigHash)).SequenceEqual(tampered));
        Assert.Equal(tampered, File.ReadAllBytes(onServer)); // Objects are never overwritten: the server must be cleaned.
    }

    [NginxFact]
    public async Task AnUploadNeverOverwritesAnObjectTheServerHolds()
    {
        // Deterministic output: the second checkout's fresh result has the same object name as the tampered one.
        foreach (var pipeline in new[] { _first, _second })
        {
            pipeline.Step("fixed", "mkdir -p out && seq 1 100000 > out/n.txt", ("Outputs", "out/"));
        }

        var first = await _first.RunAsync(With(Remote(_server.BaseUrl)));
        var hash = _first.OpenStoreEntry(first["fixed"].Key!).Manifest.Single().Hash;
        var onServer = Path.Combine(_server.DataDirectory, "cas", hash);
        File.WriteAllText(onServer, new string('x', (int)new FileInfo(onServer).Length));
        var puts = _server.Requests("PUT");

        var second = await _second.RunAsync(With(Remote(_server.BaseUrl)));

        second.AssertOutcome("fixed", StepOutcome.Executed);
        Assert.Equal(ErrorCodes.RemoteObjectTampered, Assert.Single(second.Log.Warnings).Code);
        Assert.Equal(1, second.Result.RemoteUploads);
        Assert.Equal(puts + 1, _server.Requests("PUT")); // The entry only: HEAD found the object, so it was not sent.
        Assert.StartsWith("xxxx", File.ReadAllText(onServer), StringComparison.Ordinal); // Stays poisoned until removed (README).
        Assert.Equal(_first.Project.Read("out/n.txt"), _second.Project.Read("out/n.txt"));
    }

    [NginxFact]
    public async Task ARemoteResultOlderThanExpiresAfterIsNotUsed()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UtcNow);
        _first.Step("produce", Produce, ("Outputs", "out/"), ("ExpiresAfter", "3600"));
        await _first.RunAsync(With(Remote(_server.BaseUrl)), clock);
        _second.Step("produce", Produce, ("Outputs", "out/"), ("ExpiresAfter", "3600"));
        clock.Advance(TimeSpan.FromHours(2));

        var second = await _second.RunAsync(With(Remote(_server.BaseUrl)), clock);

        second.AssertOutcome("produce", StepOutcome.Executed).AssertNoDiagnostics();
        Assert.NotEqual(Bytes(_first, "out/big.bin"), Bytes(_second, "out/big.bin"));
    }

    [NginxFact]
    public async Task AnEntryFiledUnderAnotherKeyIsRefused()
    {
        var first = await Declare(_first, x: "1").RunAsync(With(Remote(_server.BaseUrl)));
        var otherKey = (await Declare(_second, x: "2").RunAsync())["produce"].Key!; // Its key, found without the remote.
        using (var store = _second.OpenStore())
        {
            store.DeleteEntry(store.FindEntry(otherKey)!.Id);
        }

        Directory.CreateDirectory(Path.Combine(_server.DataDirectory, "ac"));
        File.Copy(Path.Combine(_server.DataDirectory, "ac", first["produce"].Key!), Path.Combine(_server.DataDirectory, "ac", otherKey));

        var second = await Declare(_second, x: "2").RunAsync(With(Remote(_server.BaseUrl)));

        second.AssertOutcome("produce", StepOutcome.Executed);
        var warning = Assert.Single(second.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteEntryInvalid, warning.Code);
        Assert.Contains("key field differs", warning.Message, StringComparison.Ordinal);
        Assert.Equal("2\n", _second.Project.Read("out/small.txt"));
    }

    [NginxFact]
    public async Task AnEntryWhoseManifestLeavesTheStepsOutputsIsRefused()
    {
        var key = (await Declare(_second).RunAsync())["produce"].Key!;
        using (var store = _second.OpenStore())
        {
            store.DeleteEntry(store.FindEntry(key)!.Id);
        }

        // A well-formed entry of the right key whose manifest writes outside out/, with its object in place.
        var evil = _first.Project.Write("evil.txt", "owned\n");
        var (hash, size) = new ObjectStore(_first.Project.Combine("objects")).Add(evil);
        File.Copy(evil, Path.Combine(Directory.CreateDirectory(Path.Combine(_server.DataDirectory, "cas")).FullName, hash));
        var entry = new CacheEntry
        {
            Pipeline = _second.PipelineName,
            Step = "produce",
            Key = key,
            CreatedAt = DateTimeOffset.UtcNow,
            Components = [],
            Manifest = [new ManifestFile("src/Program.cs", hash, size, 420)],
        };
        File.WriteAllBytes(Path.Combine(Directory.CreateDirectory(Path.Combine(_server.DataDirectory, "ac")).FullName, key), RemoteEntry.Serialize(entry, null));

        var second = await Declare(_second).RunAsync(With(Remote(_server.BaseUrl)));

        second.AssertOutcome("produce", StepOutcome.Executed);
        var warning = Assert.Single(second.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteEntryInvalid, warning.Code);
        Assert.Contains("not among the step's outputs", warning.Message, StringComparison.Ordinal);
        Assert.False(_second.Project.Exists("src/Program.cs"));
        using var local = _second.OpenStore();
        Assert.False(local.Objects.Contains(hash)); // Refused before any object was fetched.
    }

    [NginxFact]
    public async Task AnEntryWhoseLinkChainLeavesTheProjectIsRefusedAtDownloadAndNotStored()
    {
        var key = (await Declare(_second).RunAsync())["produce"].Key!;
        using (var store = _second.OpenStore())
        {
            store.DeleteEntry(store.FindEntry(key)!.Id);
        }

        // Each target alone reads as inside the project; together out/esc climbs from out/up's target to its parent.
        var entry = new CacheEntry
        {
            Pipeline = _second.PipelineName,
            Step = "produce",
            Key = key,
            CreatedAt = DateTimeOffset.UtcNow,
            Components = [],
            Manifest = [],
            Directories = ["out/"],
            Links = [new ManifestLink("out/up", ".."), new ManifestLink("out/esc", "up/../../victim")],
        };
        File.WriteAllBytes(Path.Combine(Directory.CreateDirectory(Path.Combine(_server.DataDirectory, "ac")).FullName, key), RemoteEntry.Serialize(entry, null));

        var second = await Declare(_second).RunAsync(With(Remote(_server.BaseUrl)));

        second.AssertOutcome("produce", StepOutcome.Executed);
        var warning = Assert.Single(second.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteEntryInvalid, warning.Code);
        Assert.Equal("produce", warning.Step);
        Assert.Contains("'out/esc'", warning.Message, StringComparison.Ordinal);
        Assert.False(second["produce"].Remote);
        Assert.False(_second.Project.Exists("out/up") || _second.Project.Exists("out/esc"));
        using var local = _second.OpenStore();
        Assert.DoesNotContain(local.AllEntries(), e => e.Links.Count > 0); // Never recorded locally.
    }
}

internal static class RemoteHarnessExtensions
{
    public static CacheEntry OpenStoreEntry(this PipelineHarness pipeline, string key)
    {
        using var store = pipeline.OpenStore();
        return store.FindEntry(key)!;
    }
}
