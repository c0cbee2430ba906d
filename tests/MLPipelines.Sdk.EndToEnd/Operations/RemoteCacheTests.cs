using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using MLPipelines.Sdk.EndToEnd.TestKit;
using MLPipelines.Testing;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>
/// Issue 10, the remote cache (<c>PipelineRemoteCache</c>, docs/design/remote-cache.md), through the packed SDK against
/// a real nginx with WebDAV PUT on loopback. Every agent is its own checkout with its own local store; they share only
/// the server. The pipeline: <c>prepare</c> writes fixed bytes, <c>train</c> writes 300 KB from /dev/urandom (so
/// byte-identical outputs on a second checkout prove a restore: running the step there gives other bytes), and
/// <c>report</c> hashes the model. Each step counts its executions in <c>&lt;step&gt;.log</c>, which is not an output.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed partial class RemoteCacheTests(SdkPackage package, ITestOutputHelper output)
{
    private const string UserVariable = "MLPIPELINES_REMOTE_CACHE_USER";
    private const string PasswordVariable = "MLPIPELINES_REMOTE_CACHE_PASSWORD";
    private const string TokenVariable = "MLPIPELINES_REMOTE_CACHE_TOKEN";
    private const string SigningKeyVariable = "MLPIPELINES_REMOTE_CACHE_SIGNING_KEY";

    private static readonly string[] Steps = ["prepare", "train", "report"];

    private static readonly string[] OutputFiles = ["data.csv", "model/features.csv", "model/weights.bin", "report.txt"];

    [NginxFact]
    public void ASecondCheckoutRestoresEveryStepFromTheRemoteAndExecutesNone()
    {
        using NginxServer server = NginxServer.Start();
        using Workspace first = Checkout();
        using Workspace second = Checkout();

        BuildResult cold = Agent(first, server).RunPipeline().EnsureSucceeded();
        Assert.Equal(3, Executed(cold));
        cold.EnsureLine("Uploaded 3 entries to the remote cache.");
        Assert.Empty(cold.Warnings);

        // Entries under ac/, objects under cas/ named by the same hash as in the local store.
        IReadOnlyList<string> stored = server.StoredFiles();
        Assert.Equal(3, stored.Count(f => f.StartsWith("ac/", StringComparison.Ordinal)));
        foreach (EntryObjectRow row in StoreInspector.Of(first).EntryObjects())
        {
            Assert.Contains($"cas/{row.Hash}", stored);
        }

        BuildResult warm = Agent(second, server).RunPipeline().EnsureSucceeded();
        Assert.Equal(0, Executed(warm));
        foreach (string step in Steps)
        {
            warm.EnsureLine($"Using cached version of {step} (remote).");
            Assert.Equal(0, second.Executions(step));
        }

        Assert.Empty(warm.Warnings);
        Assert.Equal(first.ListFiles("model"), second.ListFiles("model"));
        foreach (string file in OutputFiles)
        {
            Assert.Equal(first.ReadBytes(file), second.ReadBytes(file));
        }

        // The remote hits went into the second checkout's own store first: with the server gone, they hit locally.
        var secondStore = StoreInspector.Of(second);
        Assert.Equal(["prepare", "report", "train"], secondStore.EntrySteps());
        secondStore.AssertConsistent();
        server.Stop();
        second.Delete("model").Delete("report.txt");
        BuildResult local = Agent(second, server).RunPipeline().EnsureSucceeded();
        Assert.Equal(0, Executed(local));
        foreach (string step in Steps)
        {
            local.EnsureHit(step);
        }

        Assert.Equal(first.ReadBytes("model/weights.bin"), second.ReadBytes("model/weights.bin"));
    }

    [NginxFact]
    public void ThePlanOfACheckoutWithAWarmRemoteSaysRemoteHitsWithoutDownloadingOrUploadingAndTheRunRestoresThem()
    {
        // Issue 11 item 5: with an empty local store the plan said "miss (no earlier result)" where the run restores
        // every step from the remote. Turborepo's dry run reports the remote cache's status; ours does too, read-only.
        using NginxServer server = NginxServer.Start();
        using Workspace first = Checkout();
        using Workspace second = Checkout();
        Agent(first, server).RunPipeline().EnsureSucceeded();
        int puts = server.Requests("PUT");
        int objectGets = server.RequestsTo("GET /cache/cas/");

        BuildResult plan = Agent(second, server).PlanPipeline().EnsureSucceeded();
        foreach (string step in Steps)
        {
            EnsureRemoteHitPlanned(plan, step);
        }

        Assert.Empty(plan.Warnings);
        BuildResult json = Agent(second, server).PlanPipeline(DotnetRunner.Property("PipelinePlanFormat", "json")).EnsureSucceeded();
        Assert.Equal(3, json.LinesContaining("\"remote\": true").Count);
        Assert.Equal(puts, server.Requests("PUT"));
        Assert.Equal(objectGets, server.RequestsTo("GET /cache/cas/"));
        Assert.Empty(StoreInspector.Of(second).EntrySteps());
        Assert.False(second.FileExists("data.csv"), "The plan wrote an output.");

        BuildResult run = Agent(second, server).RunPipeline().EnsureSucceeded();
        Assert.Equal(0, Executed(run));
        Assert.All(Steps, step => run.EnsureLine($"Using cached version of {step} (remote)."));
    }

    [NginxFact]
    public void ThePlanSaysAMissWhereTheRemoteEntryLacksAnObjectAndTheRunThenExecutesThatStep()
    {
        using NginxServer server = NginxServer.Start();
        using Workspace first = Checkout();
        using Workspace second = Checkout();
        Agent(first, server).RunPipeline().EnsureSucceeded();
        string hash = StoreInspector.Of(first).Entry("train").Manifest.Single(m => m.Path == "model/weights.bin").Hash;
        File.Delete(Path.Combine(server.DataDirectory, "cas", hash));

        BuildResult plan = Agent(second, server).PlanPipeline().EnsureSucceeded();
        EnsureRemoteHitPlanned(plan, "prepare");
        plan.EnsureLine("train: miss (no earlier result)");
        plan.EnsureLine("report: pending (waits for train)");
        Assert.Contains(plan.Warnings, w => w.Code == "MLP5006" && w.Message.Contains("'train'", StringComparison.Ordinal));

        BuildResult run = Agent(second, server).RunPipeline().EnsureSucceeded();
        run.EnsureLine("Using cached version of prepare (remote).");
        run.EnsureMiss("train", "no earlier result");
        run.EnsureMiss("report", "no earlier result");
        Assert.Equal(2, Executed(run));
    }

    [NginxTheory]
    [InlineData(null)]
    [InlineData("a-key-of-someone-else")]
    public void ThePlanOfAReaderWithASigningKeySaysTheMissesItsRefusalsGiveAndTheRunDoesThat(string? writerKey)
    {
        using NginxServer server = NginxServer.Start();
        using Workspace writer = Checkout();
        using Workspace reader = Checkout();
        Agent(writer, server, signingKey: writerKey).RunPipeline().EnsureSucceeded();

        BuildResult plan = Agent(reader, server, "Read", signingKey: "main-branch-key").PlanPipeline().EnsureSucceeded();
        plan.EnsureLine("prepare: miss (no earlier result)");
        plan.EnsureLine("train: pending (waits for prepare)");
        Assert.Contains(plan.Warnings, w => w.Code == "MLP5005" && w.Message.Contains("'prepare'", StringComparison.Ordinal));

        // And with the writer's own key, the same reader's plan says remote hits.
        if (writerKey is not null)
        {
            EnsureRemoteHitPlanned(Agent(reader, server, "Read", signingKey: writerKey).PlanPipeline().EnsureSucceeded(), "prepare");
        }

        BuildResult run = Agent(reader, server, "Read", signingKey: "main-branch-key").RunPipeline().EnsureSucceeded();
        run.EnsureMiss("prepare", "no earlier result");
        Assert.Equal(3, Executed(run));
    }

    [Fact]
    public void ThePlanAgainstAnUnreachableRemoteWarnsAsTheRunDoesAndPlansLocalOnly()
    {
        using Workspace workspace = Checkout();
        string url = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{UnusedPort()}/cache");
        Agent(workspace, url).RunPipeline().EnsureSucceeded();
        workspace.WriteFile("unrelated.txt", "x");
        workspace.Delete("report.txt");

        // prepare and train hit locally (the remote is never asked for them); report's restore needs no remote either.
        BuildResult plan = Agent(workspace, url).PlanPipeline().EnsureSucceeded();
        plan.EnsureLine("prepare: hit");
        plan.EnsureLine("report: hit (would restore 1 deleted output: report.txt)");
        Assert.DoesNotContain(plan.Warnings, w => w.Code.StartsWith("MLP5", StringComparison.Ordinal));

        // With the local store gone, every lookup falls to the remote, which cannot be reached: one MLP5001, local-only.
        Directory.Delete(workspace.GetPath(".mlpipelines"), recursive: true);
        BuildResult cold = Agent(workspace, url).PlanPipeline().EnsureSucceeded();
        cold.EnsureLine("prepare: miss (no earlier result)");
        cold.EnsureLine("train: pending (waits for prepare)");
        AssertRemoteWarnedOnce(cold, "MLP5001");
        BuildResult run = Agent(workspace, url).RunPipeline().EnsureSucceeded();
        Assert.Equal(3, Executed(run));
        AssertRemoteWarnedOnce(run, "MLP5001");
    }

    [NginxFact]
    public void ListPipelineRunsShowsRemoteHitsAndUploads()
    {
        using NginxServer server = NginxServer.Start();
        using Workspace first = Checkout();
        using Workspace second = Checkout();
        Agent(first, server).RunPipeline().EnsureSucceeded();
        Agent(second, server).RunPipeline().EnsureSucceeded();

        // The run records count them (schema 5: runs.remote_hits, runs.remote_uploads; step_runs.source).
        var firstStore = StoreInspector.Of(first);
        var secondStore = StoreInspector.Of(second);
        Assert.Equal((0, 3), firstStore.LatestRunRemoteCounts());
        Assert.Equal((3, 0), secondStore.LatestRunRemoteCounts());
        Assert.All(secondStore.StepSources(secondStore.LatestRun().Id).Values, source => Assert.Equal("remote", source));
        Assert.All(firstStore.StepSources(firstStore.LatestRun().Id).Values, Assert.Null);

        // And ListPipelineRuns shows them: REMOTE (counted among CACHED) and UPLOADED.
        ListedRun uploader = Assert.Single(first.ListRuns().EnsureSucceeded().ListedRuns());
        Assert.Equal((firstStore.LatestRun().Id, 0, 3, 0, 3), (uploader.Id, uploader.Cached, uploader.Executed, uploader.RemoteHits, uploader.RemoteUploads));
        ListedRun restorer = Assert.Single(second.ListRuns().EnsureSucceeded().ListedRuns());
        Assert.Equal((secondStore.LatestRun().Id, 3, 0, 3, 0), (restorer.Id, restorer.Cached, restorer.Executed, restorer.RemoteHits, restorer.RemoteUploads));
    }

    [Fact]
    public void ANeverListeningPortGivesAWarningAndTheBuildSucceedsLocalOnly()
    {
        using Workspace workspace = Checkout();
        string url = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{UnusedPort()}/cache");

        BuildResult build = Agent(workspace, url).RunPipeline().EnsureSucceeded();
        Assert.Equal(3, Executed(build));
        AssertRemoteWarnedOnce(build, "MLP5001");
        Assert.Empty(build.Errors);
        foreach (string file in OutputFiles)
        {
            Assert.True(workspace.FileExists(file), $"{file} is missing.\n{build}");
        }

        // The results were stored locally all the same.
        Assert.Equal(["prepare", "report", "train"], StoreInspector.Of(workspace).EntrySteps());
        BuildResult again = Agent(workspace, url).RunPipeline().EnsureSucceeded();
        Assert.Equal(0, Executed(again));
        Assert.All(Steps, step => again.EnsureHit(step));
    }

    [NginxFact]
    public void AStoppedServerGivesAWarningAndTheBuildSucceedsLocalOnly()
    {
        using NginxServer server = NginxServer.Start();
        using Workspace first = Checkout();
        using Workspace second = Checkout();
        Agent(first, server).RunPipeline().EnsureSucceeded();
        server.Stop();

        // The remote holds every result, but it is down: the second checkout executes everything, with a warning.
        BuildResult build = Agent(second, server).RunPipeline().EnsureSucceeded();
        Assert.Equal(3, Executed(build));
        AssertRemoteWarnedOnce(build, "MLP5001");
        Assert.All(Steps, step => Assert.Equal(1, second.Executions(step)));
        Assert.Equal(first.ReadBytes("data.csv"), second.ReadBytes("data.csv"));
        Assert.NotEqual(first.ReadBytes("model/weights.bin"), second.ReadBytes("model/weights.bin"));
        Assert.Equal(["prepare", "report", "train"], StoreInspector.Of(second).EntrySteps());
    }

    [NginxFact]
    public void ATamperedRemoteObjectIsNeverRestoredAndItsStepExecutes()
    {
        using NginxServer server = NginxServer.Start();
        using Workspace first = Checkout();
        using Workspace second = Checkout();
        Agent(first, server).RunPipeline().EnsureSucceeded();

        // Poison the object holding prepare's data.csv on the server: same name (its hash), other bytes.
        string hash = Assert.Single(StoreInspector.Of(first).Entry("prepare").Manifest).Hash;
        string remoteObject = Path.Combine(server.DataDirectory, "cas", hash);
        Assert.True(File.Exists(remoteObject), $"No object cas/{hash} on the server: {string.Join(", ", server.StoredFiles())}");
        byte[] poison = Encoding.UTF8.GetBytes("sepal,petal\n6.6,666\n");
        File.WriteAllBytes(remoteObject, poison);

        BuildResult build = Agent(second, server).RunPipeline().EnsureSucceeded();
        Assert.Contains(build.Warnings, w => w.Code == "MLP5007" && w.Message.Contains("'prepare'", StringComparison.Ordinal) && w.Message.Contains(hash, StringComparison.Ordinal));
        Assert.False(build.HasLine("Using cached version of prepare (remote)."), build.ToString());
        Assert.Equal(1, second.Executions("prepare"));
        Assert.Equal(first.ReadBytes("data.csv"), second.ReadBytes("data.csv"));

        // prepare wrote the same bytes as on the first checkout, so the steps after it still hit remotely.
        build.EnsureLine("Using cached version of train (remote).");
        build.EnsureLine("Using cached version of report (remote).");
        Assert.Equal(1, Executed(build));
        Assert.Equal(first.ReadBytes("model/weights.bin"), second.ReadBytes("model/weights.bin"));

        // Nothing of the poison reached the local store, and (content-addressed objects are never overwritten) the
        // server still holds it: the README tells operators to clean such an object.
        var store = StoreInspector.Of(second);
        store.AssertConsistent();
        Assert.DoesNotContain(store.ObjectFiles(), file => File.ReadAllBytes(Path.Combine(store.ObjectsDirectory, file)).AsSpan().SequenceEqual(poison));
        Assert.Equal(poison, File.ReadAllBytes(remoteObject));
    }

    [NginxFact]
    public void AReaderWithTheSigningKeyRestoresWhatAWriterWithTheSameKeySigned()
    {
        using NginxServer server = NginxServer.Start();
        using Workspace writer = Checkout();
        using Workspace reader = Checkout();
        Agent(writer, server, signingKey: "main-branch-key").RunPipeline().EnsureSucceeded();

        BuildResult build = Agent(reader, server, "Read", signingKey: "main-branch-key").RunPipeline().EnsureSucceeded();
        Assert.Equal(0, Executed(build));
        Assert.All(Steps, step => build.EnsureLine($"Using cached version of {step} (remote)."));
        Assert.Empty(build.Warnings);
        Assert.Equal(writer.ReadBytes("model/weights.bin"), reader.ReadBytes("model/weights.bin"));
    }

    [NginxTheory]
    [InlineData(null)]
    [InlineData("a-key-of-someone-else")]
    public void WithASigningKeyAnUnsignedOrWronglySignedEntryIsRefused(string? writerKey)
    {
        using NginxServer server = NginxServer.Start();
        using Workspace writer = Checkout();
        using Workspace reader = Checkout();
        Agent(writer, server, signingKey: writerKey).RunPipeline().EnsureSucceeded();
        Assert.Equal(3, server.StoredFiles().Count(f => f.StartsWith("ac/", StringComparison.Ordinal)));

        BuildResult build = Agent(reader, server, "Read", signingKey: "main-branch-key").RunPipeline().EnsureSucceeded();
        Assert.Equal(3, Executed(build));
        // prepare's entry is refused; prepare executes and writes the same bytes, so train has the writer's key and
        // its entry is refused too. train's fresh weights then give report a key the server has never seen: a miss.
        foreach (string step in new[] { "prepare", "train" })
        {
            Assert.Contains(build.Warnings, w => w.Code == "MLP5005" && w.Message.Contains($"'{step}'", StringComparison.Ordinal));
        }

        Assert.All(build.Warnings, w => Assert.Equal("MLP5005", w.Code));
        foreach (string step in Steps)
        {
            Assert.False(build.HasLine($"Using cached version of {step} (remote)."), build.ToString());
            Assert.Equal(1, reader.Executions(step));
        }

        // What the reader has is its own run's result, not the writer's.
        Assert.NotEqual(writer.ReadBytes("model/weights.bin"), reader.ReadBytes("model/weights.bin"));
        Assert.Equal(writer.ReadBytes("data.csv"), reader.ReadBytes("data.csv"));
    }

    [NginxFact]
    public void ReadModeNeverUploadsButRestores()
    {
        using NginxServer server = NginxServer.Start();
        using Workspace untrusted = Checkout();

        BuildResult cold = Agent(untrusted, server, "Read").RunPipeline().EnsureSucceeded();
        Assert.Equal(3, Executed(cold));
        Assert.Equal(0, server.Requests("PUT"));
        Assert.Empty(server.StoredFiles());
        // It did ask the server (a miss there too), so the silence on PUT is the mode's doing.
        Assert.True(server.Requests("GET") + server.Requests("HEAD") > 0, $"No lookup reached the server.\n{cold}");
        Assert.False(cold.HasLine("Uploaded 3 entries to the remote cache."), cold.ToString());

        // The same pipeline in ReadWrite uploads; a Read build then restores from it and still uploads nothing.
        using Workspace trusted = Checkout();
        Agent(trusted, server).RunPipeline().EnsureSucceeded();
        int puts = server.Requests("PUT");
        IReadOnlyList<string> stored = server.StoredFiles();
        Assert.True(puts > 0, "The ReadWrite build uploaded nothing.");

        using Workspace reader = Checkout();
        BuildResult warm = Agent(reader, server, "Read").RunPipeline().EnsureSucceeded();
        Assert.Equal(0, Executed(warm));
        Assert.All(Steps, step => warm.EnsureLine($"Using cached version of {step} (remote)."));
        Assert.Equal(puts, server.Requests("PUT"));
        Assert.Equal(stored, server.StoredFiles());
    }

    [NginxFact]
    public void BasicAuthWorksWithTheEnvironmentCredentialsWarnsWithoutThemAndNeverLeaksThePassword()
    {
        const string user = "ci-main";
        string password = "pw-" + Guid.NewGuid().ToString("N");
        string basicToken = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
        using NginxServer server = NginxServer.Start(user, password);
        var credentials = new Dictionary<string, string?> { [UserVariable] = user, [PasswordVariable] = password };
        using Workspace writer = Checkout();
        using Workspace reader = Checkout();
        using Workspace anonymous = Checkout();

        // Detailed verbosity: any task parameter or detail line holding the password would show.
        BuildResult written = Agent(writer, server, environment: credentials, verbosity: "d").RunPipeline().EnsureSucceeded();
        Assert.Equal(3, Executed(written));
        written.EnsureLine("Uploaded 3 entries to the remote cache.");
        IReadOnlyList<string> stored = server.StoredFiles();
        Assert.Equal(3, stored.Count(f => f.StartsWith("ac/", StringComparison.Ordinal)));

        BuildResult read = Agent(reader, server, environment: credentials, verbosity: "d").RunPipeline().EnsureSucceeded();
        Assert.Equal(0, Executed(read));
        Assert.All(Steps, step => read.EnsureLine($"Using cached version of {step} (remote)."));
        Assert.Equal(writer.ReadBytes("model/weights.bin"), reader.ReadBytes("model/weights.bin"));

        // Without credentials nginx answers 401: a warning, the steps execute, the build succeeds, nothing is stored.
        BuildResult refused = Agent(anonymous, server, verbosity: "d").RunPipeline().EnsureSucceeded();
        Assert.Equal(3, Executed(refused));
        AssertRemoteWarnedOnce(refused, "MLP5004");
        Assert.Equal(stored, server.StoredFiles());

        BuildResult[] logs = [written, read, refused, writer.ListRuns().EnsureSucceeded(), reader.ListRuns().EnsureSucceeded()];
        foreach (BuildResult log in logs)
        {
            Assert.False(log.Contains(password), $"The password is in the log.\n{log}");
            Assert.False(log.Contains(basicToken), $"The Basic credentials are in the log.\n{log}");
        }

        foreach (Workspace checkout in new[] { writer, reader })
        {
            foreach (string file in Directory.EnumerateFiles(checkout.GetPath(".mlpipelines"), "*", SearchOption.AllDirectories))
            {
                byte[] bytes = File.ReadAllBytes(file);
                Assert.False(Contains(bytes, password), $"The password is in {file}.");
                Assert.False(Contains(bytes, basicToken), $"The Basic credentials are in {file}.");
            }
        }
    }

    [NginxFact]
    public void AnObjectGoneFromTheServerOnlyCostsItsStepAMiss()
    {
        using NginxServer server = NginxServer.Start();
        using Workspace first = Checkout();
        using Workspace second = Checkout();
        Agent(first, server).RunPipeline().EnsureSucceeded();

        // A server-side cleanup removed the weights but kept train's entry: train executes, the rest hits remotely.
        string hash = StoreInspector.Of(first).Entry("train").Manifest.Single(m => m.Path == "model/weights.bin").Hash;
        File.Delete(Path.Combine(server.DataDirectory, "cas", hash));

        BuildResult build = Agent(second, server).RunPipeline().EnsureSucceeded();
        Assert.Empty(build.Errors);
        Assert.Contains(build.Warnings, w => w.Code == "MLP5006" && w.Message.Contains("'train'", StringComparison.Ordinal));
        Assert.Equal(1, second.Executions("train"));
        Assert.False(build.HasLine("Using cached version of train (remote)."), build.ToString());
        build.EnsureLine("Using cached version of prepare (remote).");
        Assert.Equal(0, second.Executions("prepare"));
        Assert.NotEqual(first.ReadBytes("model/weights.bin"), second.ReadBytes("model/weights.bin"));
        StoreInspector.Of(second).AssertConsistent();
    }

    [NginxFact]
    public void WriteModeUploadsButNeverRestoresNorOverwrites()
    {
        using NginxServer server = NginxServer.Start();
        using Workspace first = Checkout();
        using Workspace second = Checkout();
        Agent(first, server).RunPipeline().EnsureSucceeded();
        string[] entries = [.. server.StoredFiles().Where(f => f.StartsWith("ac/", StringComparison.Ordinal))];
        byte[][] before = [.. entries.Select(f => File.ReadAllBytes(Path.Combine(server.DataDirectory, f)))];

        BuildResult build = Agent(second, server, "Write").RunPipeline().EnsureSucceeded();
        Assert.Equal(3, Executed(build));
        Assert.DoesNotContain(build.Lines, line => line.Contains("(remote)", StringComparison.Ordinal));
        Assert.Empty(build.Warnings);
        // prepare's and train's keys have entries on the server (its HEAD says so): another build's valid entries are
        // never overwritten. Only keys new to the server (report's, after this build's own random weights) go up.
        Assert.False(build.HasLine("Uploaded 3 entries to the remote cache."), build.ToString());
        Assert.Equal(before, entries.Select(f => File.ReadAllBytes(Path.Combine(server.DataDirectory, f))));

        // On a server without them, a Write build puts its own.
        using NginxServer empty = NginxServer.Start();
        using Workspace third = Checkout();
        Agent(third, empty, "Write").RunPipeline().EnsureSucceeded().EnsureLine("Uploaded 3 entries to the remote cache.");
        string hash = StoreInspector.Of(third).Entry("train").Manifest.Single(m => m.Path == "model/weights.bin").Hash;
        Assert.Contains($"cas/{hash}", empty.StoredFiles());
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/cache", "MLP1030")]
    [InlineData("cache.example.com/pipelines", "MLP1030")]
    [InlineData("http://ci:hunter2-in-the-url@127.0.0.1:9/cache", "MLP1030")]
    public void AnInvalidRemoteCacheUrlIsAConfigurationErrorBeforeAnyStepRuns(string url, string code)
    {
        using Workspace workspace = Checkout();
        BuildResult build = Agent(workspace, url).RunPipeline().EnsureFailed();
        BuildMessage error = Assert.Single(build.Errors);
        Assert.Equal(code, error.Code);
        Assert.Contains("PipelineRemoteCache", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("pipeline.proj", error.File ?? error.Project ?? "", StringComparison.Ordinal);
        Assert.All(Steps, step => Assert.Equal(0, workspace.Executions(step)));
        Assert.False(build.Contains("hunter2"), $"The password in the URL is in the log.\n{build}");
    }

    [Fact]
    public void AnUnknownRemoteCacheModeIsAConfigurationErrorBeforeAnyStepRuns()
    {
        using Workspace workspace = Checkout();
        BuildResult build = Agent(workspace, "http://127.0.0.1:9/cache", "ReadOnly").RunPipeline().EnsureFailed();
        BuildMessage error = Assert.Single(build.Errors);
        Assert.Equal("MLP1031", error.Code);
        Assert.Contains("PipelineRemoteCacheMode", error.Message, StringComparison.Ordinal);
        Assert.All(Steps, step => Assert.Equal(0, workspace.Executions(step)));
    }

    [NginxFact]
    public void StepsWithEnvironmentValuesAreSharedOnlyWithASigningKey()
    {
        using NginxServer server = NginxServer.Start();
        using Workspace first = Checkout(environmentStep: true);
        using Workspace second = Checkout(environmentStep: true);
        using Workspace third = Checkout(environmentStep: true);
        using Workspace fourth = Checkout(environmentStep: true);

        // With the key, the environment value is keyed with a secret derived from it: both stores compute one key.
        Agent(first, server, signingKey: "main-branch-key").RunPipeline().EnsureSucceeded();
        BuildResult signed = Agent(second, server, signingKey: "main-branch-key").RunPipeline().EnsureSucceeded();
        signed.EnsureLine("Using cached version of tokenized (remote).");
        Assert.Equal(0, second.Executions("tokenized"));
        Assert.Equal(first.ReadBytes("tokens.bin"), second.ReadBytes("tokens.bin"));

        // Without a key, each store keys it with its own secret: the step is neither uploaded nor looked up remotely;
        // the steps without environment values are shared as ever.
        using NginxServer unsigned = NginxServer.Start();
        BuildResult uploaded = Agent(third, unsigned).RunPipeline().EnsureSucceeded();
        uploaded.EnsureLine("Uploaded 3 entries to the remote cache.");
        BuildResult unshared = Agent(fourth, unsigned).RunPipeline().EnsureSucceeded();
        Assert.Equal(1, fourth.Executions("tokenized"));
        Assert.False(unshared.HasLine("Using cached version of tokenized (remote)."), unshared.ToString());
        Assert.All(Steps, step => unshared.EnsureLine($"Using cached version of {step} (remote)."));
        Assert.Empty(unshared.Warnings);
    }

    [NginxFact]
    public void NoCommandTheBuildStartsSeesTheRemoteCacheVariablesSoNoneReachesAnOutputTheLogOrTheServer()
    {
        string marker = "secret-" + Guid.NewGuid().ToString("N");
        var secrets = new Dictionary<string, string?>
        {
            [TokenVariable] = marker + "-token",
            [UserVariable] = marker + "-user",
            [PasswordVariable] = marker + "-password",
            [SigningKeyVariable] = marker + "-signing-key",
        };
        using NginxServer server = NginxServer.Start(); // Without auth: the bearer token is sent and ignored.
        using Workspace checkout = Checkout(environmentDump: true);

        // Detailed verbosity: any detail line or task parameter holding a value would show.
        BuildResult build = Agent(checkout, server, environment: secrets, verbosity: "d").RunPipeline().EnsureSucceeded();

        build.EnsureLine("Uploaded 4 entries to the remote cache.");
        foreach (string dump in new[] { "env.txt", "key-env.txt", "tool-env.txt" })
        {
            string text = checkout.ReadFile(dump);
            Assert.DoesNotContain(marker, text, StringComparison.Ordinal);
            Assert.DoesNotContain("MLPIPELINES_REMOTE_CACHE_", text, StringComparison.Ordinal);
        }

        Assert.False(build.Contains(marker), $"A remote cache variable's value is in the log.\n{build}");
        Assert.False(build.Contains("MLPIPELINES_REMOTE_CACHE_TOKEN="), $"A remote cache variable is in the log.\n{build}");
        IReadOnlyList<string> stored = Directory.EnumerateFiles(server.DataDirectory, "*", SearchOption.AllDirectories).ToList();
        Assert.Equal(4, stored.Count(f => Path.GetRelativePath(server.DataDirectory, f).StartsWith("ac", StringComparison.Ordinal)));
        foreach (string file in stored)
        {
            byte[] bytes = File.ReadAllBytes(file);
            Assert.False(Contains(bytes, marker), $"A remote cache variable's value is in {file}.");
            Assert.False(Contains(bytes, "MLPIPELINES_REMOTE_CACHE_"), $"A remote cache variable is in {file}.");
        }
    }

    // --- the pipeline, the agents, and what their logs say -----------------------------------------------------------

    /// <summary>A new checkout of the pipeline: its own workspace, packages folder and local store.</summary>
    private Workspace Checkout(bool environmentStep = false, bool environmentDump = false, [System.Runtime.CompilerServices.CallerMemberName] string testName = "")
    {
        Workspace workspace = Workspace.Create(package, output, testName);
        PipelineProject project = PipelineProject.Create(package.Version);
        if (environmentDump)
        {
            // What a careless step, key command or version command does: write its environment where it is kept.
            project.Step(
                "dumpenv",
                "env | grep MLPIPELINES_ > env.txt || true",
                outputs: "env.txt",
                metadata: [new("CacheKeyCommand", "env | grep MLPIPELINES_ > key-env.txt || true; echo key")]);
            project.Item("PipelineTool", "envtool", [new("VersionCommand", "env | grep MLPIPELINES_ > tool-env.txt || true; echo 1.0")]);
        }

        if (environmentStep)
        {
            // Random output (so a restore shows), and an Environment value: a store-keyed component of its key.
            project.Step(
                "tokenized",
                "echo ran >> tokenized.log && head -c 1000 /dev/urandom > tokens.bin",
                outputs: "tokens.bin",
                metadata: [new("Environment", "TOKENIZER=bpe")]);
        }

        project
            .CountedStep("prepare", "printf 'sepal,petal\\n5.1,1.4\\n' > data.csv", outputs: "data.csv")
            .CountedStep(
                "train",
                "mkdir -p model && head -c 300000 /dev/urandom > model/weights.bin && cp data.csv model/features.csv",
                inputs: "data.csv",
                outputs: "model/")
            .CountedStep("report", "sha256sum model/weights.bin > report.txt", inputs: "model/", outputs: "report.txt")
            .Save(workspace);
        return workspace;
    }

    private static RemoteAgent Agent(
        Workspace checkout,
        NginxServer server,
        string? mode = null,
        string? signingKey = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? verbosity = null) =>
        Agent(checkout, server.BaseUrl, mode, signingKey, environment, verbosity);

    /// <summary>
    /// A build of <paramref name="checkout"/> against the remote at <paramref name="url"/> (and in <paramref name="mode"/>,
    /// when given), as a CI job passes them: properties on the command line, credentials and the key by environment only.
    /// </summary>
    private static RemoteAgent Agent(
        Workspace checkout,
        string url,
        string? mode = null,
        string? signingKey = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? verbosity = null)
    {
        var runner = new DotnetRunner(checkout) { Verbosity = verbosity };
        // Null removes a variable: whatever the machine running the tests sets, each agent has exactly what it is given.
        runner.Environment[UserVariable] = null;
        runner.Environment[PasswordVariable] = null;
        runner.Environment[TokenVariable] = null;
        runner.Environment[SigningKeyVariable] = signingKey;
        foreach (KeyValuePair<string, string?> variable in environment ?? new Dictionary<string, string?>())
        {
            runner.Environment[variable.Key] = variable.Value;
        }

        List<string> arguments = [DotnetRunner.Property("PipelineRemoteCache", url)];
        if (mode is not null)
        {
            arguments.Add(DotnetRunner.Property("PipelineRemoteCacheMode", mode));
        }

        return new RemoteAgent(runner, arguments);
    }

    /// <summary>One agent: its runner (checkout, environment) and the remote cache's properties.</summary>
    private sealed record RemoteAgent(DotnetRunner Runner, IReadOnlyList<string> Arguments)
    {
        public BuildResult RunPipeline() => Runner.RunPipeline([.. Arguments]);

        public BuildResult PlanPipeline(params string[] more) => Runner.RunTarget("PlanPipeline", [.. Arguments, .. more]);
    }

    /// <summary>How many steps the run executed, from its closing summary line.</summary>
    private static int Executed(BuildResult result)
    {
        string line = Assert.Single(result.LinesContaining("Pipeline pipeline: "));
        Match match = ExecutedCount().Match(line);
        Assert.True(match.Success, $"No executed count in \"{line}\".\n{result}");
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The remote cache warned once (the contract: one warning per kind of failure and build), with <paramref name="code"/>,
    /// and gave no other MLP5xxx warning. Messages are compared without their origin: at <c>-v:d</c> MSBuild puts a
    /// node prefix before it, so one warning can show with two origins.
    /// </summary>
    private static void AssertRemoteWarnedOnce(BuildResult result, string code)
    {
        List<string> remote = result.Warnings.Where(w => w.Code.StartsWith("MLP5", StringComparison.Ordinal))
            .Select(w => $"{w.Code}: {w.Message}").Distinct(StringComparer.Ordinal).ToList();
        Assert.True(remote.Count == 1 && remote[0].StartsWith(code + ":", StringComparison.Ordinal),
            $"Expected one remote cache warning, {code}; got {remote.Count}.\n{result}");
    }

    /// <summary>The plan says <paramref name="step"/> hits remotely (and then which outputs the restore places).</summary>
    private static void EnsureRemoteHitPlanned(BuildResult plan, string step) =>
        Assert.True(plan.Lines.Any(l => l.Trim().StartsWith($"{step}: hit (from the remote cache", StringComparison.Ordinal)), $"No remote hit planned for {step}.\n{plan}");

    private static bool Contains(byte[] haystack, string text) => haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"Pipeline pipeline: \d+ steps?, \d+ cached.*?, (\d+) executed")]
    private static partial Regex ExecutedCount();
}
