using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>
/// Clearing or pruning the store while another build runs on it: two real processes, interleaved deterministically.
/// Build A's step <c>gate</c> signals with a file <c>waiting</c> and then waits for a file <c>go</c>; build B does its
/// housekeeping in between. A must succeed, the store must stay consistent, and the next run must be fully cached.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class ConcurrencyTests(SdkPackage package, ITestOutputHelper output)
{
    private static readonly TimeSpan SignalTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task ClearingTheCacheWhileABuildRunsDoesNotBreakIt()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SavePipeline(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.WriteFile("go", "");
        workspace.RunPipeline().EnsureSucceeded();
        // Old enough to collect: housekeeping spares unreferenced objects younger than an hour.
        store.AgeObjects(TimeSpan.FromHours(2));
        workspace.Delete("go").Delete("waiting");

        // A executes gate (forced) and waits in it; meanwhile B clears every entry, prep's and gate's included.
        BuildResult a = await WhileGateWaits(workspace, () =>
        {
            BuildResult b = workspace.ClearCache().EnsureSucceeded();
            b.EnsureLine("Cleared the cache of pipeline pipeline: 2 entries, 2 objects, 13 B removed.");
            Assert.Empty(store.Entries());
        });

        a.EnsureSucceeded();
        a.EnsureLine("Using cached version of prep.");
        a.EnsureLine("Cache miss for gate: forced.");
        Assert.Equal("prepgated", workspace.ReadFile("gated.txt"));
        store.AssertConsistent();
        Assert.Equal(["gate"], store.EntrySteps());

        // What A recorded after the clear is whole: gate is restored; prep, cleared under A, runs once more.
        workspace.Delete("gated.txt");
        BuildResult next = workspace.RunPipeline().EnsureSucceeded();
        next.EnsureLine("Cache miss for prep: no earlier result.");
        next.EnsureLine("Using cached version of gate.");
        Assert.Equal("prepgated", workspace.ReadFile("gated.txt"));
        store.AssertConsistent();
    }

    [Fact]
    public async Task ClearingTheCacheBeforeABuildRecordsAnythingLeavesItsResultsWhole()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SavePipeline(workspace, prepWaits: true);
        var store = StoreInspector.Of(workspace);
        workspace.WriteFile("go", "");
        workspace.RunPipeline().EnsureSucceeded();
        // Old enough to collect: housekeeping spares unreferenced objects younger than an hour.
        store.AgeObjects(TimeSpan.FromHours(2));
        workspace.Delete("go").Delete("waiting");

        // A executes the first step (forced) and waits in it before anything of this run is stored; B clears all.
        BuildResult a = await WhileGateWaits(
            workspace,
            () => workspace.ClearCache().EnsureSucceeded().EnsureLine("Cleared the cache of pipeline pipeline: 2 entries, 2 objects, 13 B removed."),
            DotnetRunner.Property("PipelineForce", "prep"));

        a.EnsureSucceeded();
        a.EnsureLine("Cache miss for prep: forced.");
        a.EnsureLine("Cache miss for gate: no earlier result.");
        store.AssertConsistent();
        Assert.Equal(["gate", "prep"], store.EntrySteps());

        workspace.Delete("prep.txt").Delete("gated.txt");
        BuildResult next = workspace.RunPipeline().EnsureSucceeded();
        Assert.StartsWith("Pipeline pipeline: 2 steps, 2 cached, 0 executed", next.Summary(), StringComparison.Ordinal);
        Assert.Equal("prepgated", workspace.ReadFile("gated.txt"));
        store.AssertConsistent();
    }

    [Fact]
    public async Task PruningWhileABuildRunsKeepsWhatThatBuildUsed()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SavePipeline(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.WriteFile("go", "");
        workspace.RunPipeline().EnsureSucceeded();
        // Old enough to collect: housekeeping spares unreferenced objects younger than an hour.
        store.AgeObjects(TimeSpan.FromHours(2));
        workspace.Delete("go").Delete("waiting").Delete("prep.txt");
        // Both entries look unused for 40 days; A is about to use prep (a hit) but not gate's old entry (forced).
        store.SetLastUsed("prep", DateTimeOffset.UtcNow - TimeSpan.FromDays(40)).SetLastUsed("gate", DateTimeOffset.UtcNow - TimeSpan.FromDays(40));

        BuildResult a = await WhileGateWaits(workspace, () =>
        {
            BuildResult b = workspace.PruneCache().EnsureSucceeded();
            b.EnsureLine("Pruned the pipeline cache (entries unused for 28.00:00:00): 1 entry, 1 object, 9 B removed; 4 B kept.");
            Assert.Equal(["prep"], store.EntrySteps());
        });

        a.EnsureSucceeded();
        a.EnsureLine("Restored 1 output file of prep from the cache.");
        a.EnsureLine("Cache miss for gate: forced.");
        Assert.Equal("prepgated", workspace.ReadFile("gated.txt"));
        store.AssertConsistent();
        Assert.Equal(["gate", "prep"], store.EntrySteps());

        workspace.Delete("prep.txt").Delete("gated.txt");
        BuildResult next = workspace.RunPipeline().EnsureSucceeded();
        Assert.StartsWith("Pipeline pipeline: 2 steps, 2 cached, 0 executed", next.Summary(), StringComparison.Ordinal);
        Assert.Equal("prepgated", workspace.ReadFile("gated.txt"));
        store.AssertConsistent();
    }

    /// <summary>
    /// prep writes "prep" (4 B); gate reads it and writes "prepgated" (9 B). The waiting step first creates
    /// <c>waiting</c>, then waits for <c>go</c>.
    /// </summary>
    private void SavePipeline(Workspace workspace, bool prepWaits = false)
    {
        const string Wait = "touch waiting && while [ ! -f go ]; do sleep 0.1; done && ";
        PipelineProject.Create(package.Version)
            .Step("prep", (prepWaits ? Wait : "") + "printf prep > prep.txt", outputs: "prep.txt")
            .Step("gate", (prepWaits ? "" : Wait) + "cat prep.txt > gated.txt && printf gated >> gated.txt", inputs: "prep.txt", outputs: "gated.txt")
            .Save(workspace);
    }

    /// <summary>
    /// Starts build A (RunPipeline, forcing <c>gate</c> unless told otherwise) as its own process, runs
    /// <paramref name="meanwhile"/> once A's step is waiting, then lets A go on and returns A's result.
    /// </summary>
    private static async Task<BuildResult> WhileGateWaits(Workspace workspace, Action meanwhile, string? force = null)
    {
        var runner = new DotnetRunner(workspace);
        Task<BuildResult> a = Task.Run(() => runner.RunPipeline(force ?? DotnetRunner.Property("PipelineForce", "gate")));
        try
        {
            DateTime deadline = DateTime.UtcNow + SignalTimeout;
            while (!workspace.FileExists("waiting"))
            {
                if (a.IsCompleted)
                {
                    Assert.Fail($"Build A ended before its step started waiting.\n{await a}");
                }

                Assert.True(DateTime.UtcNow < deadline, $"Build A's step did not start waiting within {SignalTimeout}.");
                await Task.Delay(100);
            }

            meanwhile();
        }
        catch
        {
            // Let A finish rather than wait in its step until its timeout, and end before the workspace is deleted.
            workspace.WriteFile("go", "");
            await a;
            throw;
        }

        workspace.WriteFile("go", "");
        return await a;
    }
}
