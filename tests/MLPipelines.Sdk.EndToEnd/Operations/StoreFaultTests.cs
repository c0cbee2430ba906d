using MLPipelines.Sdk.EndToEnd.Core;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>
/// The store under faults, through the packed SDK: a store a newer SDK wrote (left unchanged, the build runs
/// uncached), and a housekeeping build killed in the middle of its collection (crash point <c>collect-partial</c>).
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class StoreFaultTests(SdkPackage package, ITestOutputHelper output)
{
    private const string ArmVariable = "MLPIPELINES_TEST_CRASH_ARM";
    private const string PointVariable = "MLPIPELINES_TEST_CRASH_POINT";
    private const string ArmPhrase = "kill-this-build-for-a-test";

    private Workspace Pipeline()
    {
        Workspace workspace = Workspace.Create(package, output);
        // b writes three files (three objects); c writes the same bytes as one of them: that object is c's too.
        PipelineProject.Create(package.Version)
            .TracedStep("a", "printf aaaa > a.txt", outputs: "a.txt")
            .TracedStep("b", "mkdir -p b && printf b1 > b/1.bin && printf b2 > b/2.bin && printf shared > b/3.bin", outputs: "b/")
            .TracedStep("c", "printf shared > c.txt", outputs: "c.txt")
            .Save(workspace);
        return workspace;
    }

    private static void AssertOutputs(Workspace workspace)
    {
        Assert.Equal("aaaa", workspace.ReadFile("a.txt"));
        Assert.Equal("b1", workspace.ReadFile("b/1.bin"));
        Assert.Equal("b2", workspace.ReadFile("b/2.bin"));
        Assert.Equal("shared", workspace.ReadFile("b/3.bin"));
        Assert.Equal("shared", workspace.ReadFile("c.txt"));
    }

    private static Dictionary<string, string> StoreBytes(StoreInspector store) =>
        store.DatabaseFiles().Where(f => !f.File.EndsWith("-shm", StringComparison.Ordinal))
            .Select(f => (Name: Path.GetFileName(f.File), Hex: Convert.ToHexString(f.Bytes)))
            .Concat(store.ObjectFiles().Select(o => (Name: o, Hex: Convert.ToHexString(File.ReadAllBytes(Path.Combine(store.ObjectsDirectory, o))))))
            .ToDictionary(x => x.Name, x => x.Hex);

    [Fact]
    public void AStoreANewerSdkWroteIsLeftUnchangedAndTheBuildRunsUncached()
    {
        using Workspace workspace = Pipeline();
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        store.Execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('schema', '99'), ('min_writer_schema', '99')");
        var before = StoreBytes(store);
        int runs = store.Runs().Count;
        workspace.ClearExecuted();

        BuildResult run = workspace.RunPipeline().EnsureSucceeded();

        BuildMessage warning = Assert.Single(run.Warnings);
        Assert.Equal("MLP3007", warning.Code);
        Assert.Contains("written by a newer MLPipelines.Sdk (schema 99", warning.Message, StringComparison.Ordinal);
        Assert.Equal(["a", "b", "c"], workspace.Executed().Order(StringComparer.Ordinal));
        run.EnsureMiss("a", "cache disabled");
        AssertOutputs(workspace);
        Assert.Equal(before, StoreBytes(store));
        Assert.Equal(runs, store.Runs().Count);

        // The plan says what the run does; housekeeping refuses, and changes nothing either.
        BuildResult plan = workspace.PlanPipeline().EnsureSucceeded();
        Assert.True(plan.HasWarning("MLP3007"), plan.ToString());
        plan.EnsureLine("b: miss (cache disabled)");
        BuildResult clear = workspace.ClearCache().EnsureFailed();
        Assert.True(clear.HasError("MLP3007"), clear.ToString());
        BuildResult prune = workspace.PruneCache().EnsureFailed();
        Assert.True(prune.HasError("MLP3007"), prune.ToString());
        Assert.Equal(before, StoreBytes(store));
    }

    [Theory]
    [InlineData("ClearPipelineCache")]
    [InlineData("PrunePipelineCache")]
    public void AHousekeepingBuildKilledMidCollectionLeavesAStoreTheNextBuildsUseCorrectly(string target)
    {
        using Workspace workspace = Pipeline();
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        Assert.Equal(4, store.ObjectFiles().Count);
        // b's entry goes (cleared, or unused for two months); its objects are old enough to collect.
        store.SetLastUsed("b", DateTimeOffset.UtcNow.AddDays(-60)).AgeObjects(TimeSpan.FromHours(2));
        var crashing = new DotnetRunner(workspace);
        crashing.Environment[ArmVariable] = ArmPhrase;
        crashing.Environment[PointVariable] = "collect-partial";

        // PipelineSteps is ClearPipelineCache's; PrunePipelineCache refuses it (MLP1024) and takes b by its age.
        BuildResult killed = target == "ClearPipelineCache"
            ? crashing.RunTarget(target, DotnetRunner.Property("PipelineSteps", "b"))
            : crashing.RunTarget(target);

        Assert.False(killed.Succeeded, $"Expected the armed build to die at collect-partial.\n{killed}");
        Assert.Equal(["a", "c"], store.EntrySteps());
        // One of b's two own objects is gone, the other still there; the one it shares with c stays.
        Assert.Equal(3, store.ObjectFiles().Count);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.ObjectsDirectory, "tmp")));

        // The next build: a and c restore what they wrote, b executes again; with the outputs gone, the same.
        workspace.ClearExecuted();
        workspace.Delete("a.txt").Delete("b").Delete("c.txt");
        BuildResult next = workspace.RunPipeline().EnsureSucceeded();
        next.EnsureHit("a").EnsureHit("c").EnsureMiss("b", "no earlier result");
        Assert.Equal(["b"], workspace.Executed());
        AssertOutputs(workspace);
        workspace.Delete("a.txt").Delete("b").Delete("c.txt");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("a").EnsureHit("b").EnsureHit("c");
        AssertOutputs(workspace);
        Assert.Equal(["b"], workspace.Executed());

        // A second collection completes and leaves nothing behind.
        store.AgeObjects(TimeSpan.FromHours(2));
        workspace.PruneCache().EnsureSucceeded();
        store.AssertConsistent();
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store.ObjectsDirectory, "tmp")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(workspace.GetPath(".mlpipelines/staging")));
    }
}
