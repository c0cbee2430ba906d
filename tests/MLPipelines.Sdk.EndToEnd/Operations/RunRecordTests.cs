using System.Text.Json;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>SPEC "Records": every run and every step of it is recorded in cache.db, and ListPipelineRuns shows them.</summary>
[Collection(EndToEndSuite.Name)]
public sealed class RunRecordTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void MissHitAndFailedRunsAreRecordedWithEveryStepsOutcome()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveChain(workspace);
        var store = StoreInspector.Of(workspace);

        workspace.RunPipeline().EnsureSucceeded();
        RunRow miss = store.LatestRun();
        Assert.Equal("succeeded", miss.Status);
        Assert.Equal("pipeline", miss.Pipeline);
        Assert.NotNull(miss.EndedAt);
        Assert.True(miss.EndedAt >= miss.StartedAt, $"ended_at {miss.EndedAt:O} is before started_at {miss.StartedAt:O}");
        Assert.Equal((3, 0, 3, 0), (miss.StepsTotal, miss.StepsCached, miss.StepsExecuted, miss.StepsFailed));
        IReadOnlyDictionary<string, StepRunRow> missSteps = store.StepRuns(miss.Id);
        Assert.Equal(["a", "b", "c"], missSteps.Keys.Order(StringComparer.Ordinal));
        foreach (StepRunRow step in missSteps.Values)
        {
            Assert.Equal("executed", step.Outcome);
            Assert.Equal("no earlier result", step.Reason);
            // The step's key is the key of the entry it produced, and that entry names the run.
            EntryRow entry = store.Entry(step.Step);
            Assert.Equal(entry.Key, step.Key);
            Assert.Equal(miss.Id, entry.RunId);
        }

        // The entry carries its output manifest: path, size, and the object holding the bytes.
        ManifestRow a = Assert.Single(store.Entry("a").Manifest);
        Assert.Equal(("a.txt", 1L), (a.Path, a.Size));
        Assert.Equal("a", File.ReadAllText(store.ObjectPath(a.Hash)));

        // The recorded key components say what went into the key: b's parameter, with its value.
        JsonElement mode = Components(missSteps["b"]).Single(c => c.GetProperty("kind").GetString() == "param");
        Assert.Equal("Mode", mode.GetProperty("name").GetString());
        Assert.Equal("ok", mode.GetProperty("value").GetString());

        workspace.RunPipeline().EnsureSucceeded();
        RunRow hit = store.LatestRun();
        Assert.NotEqual(miss.Id, hit.Id);
        Assert.Equal("succeeded", hit.Status);
        Assert.Equal((3, 3, 0, 0), (hit.StepsTotal, hit.StepsCached, hit.StepsExecuted, hit.StepsFailed));
        IReadOnlyDictionary<string, StepRunRow> hitSteps = store.StepRuns(hit.Id);
        foreach (StepRunRow step in hitSteps.Values)
        {
            Assert.Equal("cached", step.Outcome);
            Assert.Equal(missSteps[step.Step].Key, step.Key);
            // A hit saved what the producing run spent on the step.
            Assert.Equal(store.Entry(step.Step).DurationMs, step.SavedMs);
        }

        BuildResult failedBuild = workspace.RunPipeline(DotnetRunner.Property("Mode", "fail")).EnsureFailed();
        Assert.True(failedBuild.HasError("MLP2001"), failedBuild.ToString());
        RunRow failed = store.LatestRun();
        Assert.Equal("failed", failed.Status);
        Assert.Equal((3, 1, 0, 1), (failed.StepsTotal, failed.StepsCached, failed.StepsExecuted, failed.StepsFailed));
        IReadOnlyDictionary<string, StepRunRow> failedSteps = store.StepRuns(failed.Id);
        Assert.Equal("cached", failedSteps["a"].Outcome);
        Assert.Equal("failed", failedSteps["b"].Outcome);
        Assert.Equal("exit code 1", failedSteps["b"].Reason);
        Assert.NotNull(failedSteps["b"].Key);
        Assert.NotEqual(missSteps["b"].Key, failedSteps["b"].Key);
        Assert.Equal("notrun", failedSteps["c"].Outcome);
        Assert.Equal("needs b, which failed", failedSteps["c"].Reason);

        // Three runs, newest first; the failed result left no entry behind.
        Assert.Equal([failed.Id, hit.Id, miss.Id], store.Runs().Select(r => r.Id));
        Assert.Equal(["a", "b", "c"], store.EntrySteps());
        Assert.Equal(missSteps["b"].Key, store.Entry("b").Key);
    }

    [Fact]
    public void ListPipelineRunsShowsRecentRunsNewestFirstWithTheTimeHitsSaved()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveChain(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        string first = store.LatestRun().Id;

        // What the hits of the next run save is what the producing run spent: set it, rather than wait for it.
        store.SetDuration("a", TimeSpan.FromSeconds(40)).SetDuration("b", TimeSpan.FromSeconds(2)).SetDuration("c", TimeSpan.FromMilliseconds(500));
        workspace.RunPipeline().EnsureSucceeded();
        RunRow second = store.LatestRun();

        BuildResult list = workspace.ListRuns().EnsureSucceeded();
        list.EnsureLine("Runs of pipeline pipeline (newest first, 2 shown):");
        IReadOnlyList<ListedRun> rows = list.ListedRuns();
        Assert.Equal([second.Id, first], rows.Select(r => r.Id));

        ListedRun newest = rows[0];
        Assert.Equal(second.StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),
            newest.StartedUtc.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("succeeded", newest.Status);
        Assert.Equal((3, 0, 0), (newest.Cached, newest.Executed, newest.Failed));
        Assert.Equal("100%", newest.HitRate);
        Assert.Equal(42.5, newest.SavedSeconds);
        Assert.Equal("-", newest.Commit);
        Assert.Matches(@"^\d+\.\ds$", newest.Duration);

        ListedRun oldest = rows[1];
        Assert.Equal((0, 3, 0), (oldest.Cached, oldest.Executed, oldest.Failed));
        Assert.Equal("0%", oldest.HitRate);
        Assert.Equal(0.0, oldest.SavedSeconds);

        BuildResult limited = workspace.ListRuns(DotnetRunner.Property("PipelineRunsLimit", "1")).EnsureSucceeded();
        limited.EnsureLine("Runs of pipeline pipeline (newest first, 1 shown):");
        Assert.Equal([second.Id], limited.ListedRuns().Select(r => r.Id));

        BuildResult invalid = workspace.ListRuns(DotnetRunner.Property("PipelineRunsLimit", "0")).EnsureFailed();
        Assert.Equal("MLP1014", Assert.Single(invalid.Errors).Code);
    }

    [Fact]
    public void RunHistoryIsCappedByPipelineRunHistoryLimitAfterARunAndByPrunePipelineCache()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveChain(workspace);
        var store = StoreInspector.Of(workspace);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            workspace.RunPipeline(DotnetRunner.Property("PipelineRunHistoryLimit", "2")).EnsureSucceeded();
            ids.Add(store.LatestRun().Id);
        }

        // The third run removed the first: the newest two are kept, with their steps' records and key components.
        Assert.Equal([ids[2], ids[1]], store.Runs().Select(r => r.Id));
        Assert.Equal(["a", "b", "c"], store.StepRuns(ids[1]).Keys.Order(StringComparer.Ordinal));
        Assert.NotEmpty(Components(store.StepRuns(ids[1])["b"]));

        BuildResult pruned = workspace.PruneCache(DotnetRunner.Property("PipelineRunHistoryLimit", "1")).EnsureSucceeded();
        pruned.EnsureLine("Removed 1 run record (older than 28.00:00:00, or beyond the newest 1 of pipeline pipeline).");
        Assert.Equal([ids[2]], store.Runs().Select(r => r.Id));
        // No key components are left that no step run refers to (deleting them finds none).
        Assert.Equal(0, store.Execute("DELETE FROM key_components WHERE hash NOT IN (SELECT components_hash FROM step_runs WHERE components_hash IS NOT NULL)"));

        BuildResult invalid = workspace.RunPipeline(DotnetRunner.Property("PipelineRunHistoryLimit", "0")).EnsureFailed();
        Assert.Equal("MLP1014", Assert.Single(invalid.Errors).Code);
    }

    /// <summary>a → b → c, each writing one small file; b fails when the build says <c>-p:Mode=fail</c>.</summary>
    private void SaveChain(Workspace workspace) =>
        PipelineProject.Create(package.Version)
            .PropertyDefault("Mode", "ok")
            .Step("a", "printf a > a.txt", outputs: "a.txt")
            .Step("b", "test \"$PARAM_Mode\" != fail && cat a.txt > b.txt && printf b >> b.txt", inputs: "a.txt", outputs: "b.txt", parameters: "Mode=$(Mode)")
            .Step("c", "cat b.txt > c.txt && printf c >> c.txt", inputs: "b.txt", outputs: "c.txt")
            .Save(workspace);

    private static List<JsonElement> Components(StepRunRow step)
    {
        Assert.NotNull(step.Components);
        using JsonDocument document = JsonDocument.Parse(step.Components);
        return document.RootElement.EnumerateArray().Select(c => c.Clone()).ToList();
    }
}
