using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>
/// ClearPipelineCache, PrunePipelineCache and the pruning at the end of every run: what goes, what stays, what each
/// reports, and that cache.db and objects/ still agree afterwards. Ages are set in cache.db, never waited for.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class HousekeepingTests(SdkPackage package, ITestOutputHelper output)
{
    private static DateTimeOffset Now => DateTimeOffset.UtcNow;

    [Fact]
    public void ClearRemovesEveryEntryOfThePipelineAndNoOtherPipelines()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveThreeSteps(workspace);
        // A second pipeline sharing the store: its entries are not this pipeline's to clear.
        PipelineProject.Create(package.Version)
            .Property("PipelineCacheDir", "$(MSBuildProjectDirectory)/../.mlpipelines")
            .Step("x", "printf other > x.txt", outputs: "x.txt")
            .Save(workspace, "other/other.proj");
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        new DotnetRunner(workspace).Build("other/other.proj", DotnetRunner.Target("RunPipeline")).EnsureSucceeded();
        // Old enough to collect: housekeeping spares unreferenced objects younger than an hour.
        store.AgeObjects(TimeSpan.FromHours(2));
        Assert.Equal(["a", "b", "c", "x"], store.EntrySteps());

        BuildResult result = workspace.ClearCache().EnsureSucceeded();

        result.EnsureLine("Cleared the cache of pipeline pipeline: 3 entries, 3 objects, 29 B removed.");
        EntryRow other = Assert.Single(store.Entries());
        Assert.Equal(("other", "x"), (other.Pipeline, other.Step));
        Assert.Equal([$"{other.Manifest[0].Hash[..2]}/{other.Manifest[0].Hash}"], store.ObjectFiles());
        // The cache is cleared, not the outputs in the project.
        Assert.Equal("0123456789", workspace.ReadFile("a.txt"));
        store.AssertConsistent();
    }

    [Fact]
    public void ClearingAStepNamedTwiceInAnyCaseNamesItOnce()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("a", "printf 0123456789 > a.txt", outputs: "a.txt")
            .Step("b", "printf b > b.txt", outputs: "b.txt")
            .Save(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        store.AgeObjects(TimeSpan.FromHours(2));

        // Step names match case-insensitively: 'a;;A' is the one step a, and used to be reported as "steps a, A".
        BuildResult clear = workspace.ClearCache(DotnetRunner.Property("PipelineSteps", "a;;A")).EnsureSucceeded();

        clear.EnsureLine("Cleared the cache of steps a of pipeline pipeline: 1 entry, 1 object, 10 B removed.");
        Assert.Equal(["b"], store.EntrySteps());
        store.AssertConsistent();
    }

    [Fact]
    public void ClearingSomeStepsKeepsAnObjectAnotherEntryStillUses()
    {
        using Workspace workspace = Workspace.Create(package, output);
        // b and c are different steps whose outputs have the same bytes: one object, two entries.
        PipelineProject.Create(package.Version)
            .Step("a", "printf 0123456789 > a.txt", outputs: "a.txt")
            .Step("b", "printf shared > b.txt", outputs: "b.txt")
            .Step("c", "printf shared > c.txt", outputs: "c.txt")
            .Step("d", "printf dddd > d.txt", outputs: "d.txt")
            .Save(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        // Old enough to collect: housekeeping spares unreferenced objects younger than an hour.
        store.AgeObjects(TimeSpan.FromHours(2));
        Assert.Equal(3, store.ObjectFiles().Count);

        BuildResult clearB = workspace.ClearCache(DotnetRunner.Property("PipelineSteps", "b")).EnsureSucceeded();

        clearB.EnsureLine("Cleared the cache of steps b of pipeline pipeline: 1 entry, 0 objects, 0 B removed.");
        Assert.Equal(["a", "c", "d"], store.EntrySteps());
        store.AssertConsistent();

        // b executes again; c is still restored from the object it shared with b.
        workspace.Delete("b.txt").Delete("c.txt");
        BuildResult run = workspace.RunPipeline().EnsureSucceeded();
        run.EnsureLine("Cache miss for b: no earlier result.");
        run.EnsureLine("Using cached version of c.");
        run.EnsureLine("Restored 1 output file of c from the cache.");
        Assert.Equal("shared", workspace.ReadFile("c.txt"));
        store.AssertConsistent();

        BuildResult clearAc = workspace.ClearCache(DotnetRunner.Property("PipelineSteps", "a;c")).EnsureSucceeded();

        clearAc.EnsureLine("Cleared the cache of steps a, c of pipeline pipeline: 2 entries, 1 object, 10 B removed.");
        Assert.Equal(["b", "d"], store.EntrySteps());
        Assert.Equal(2, store.ObjectFiles().Count);
        store.AssertConsistent();
    }

    [Fact]
    public void PruneRemovesEntriesUnusedForLongerThanTheMaximumAge()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveThreeSteps(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        // Old enough to collect: housekeeping spares unreferenced objects younger than an hour.
        store.AgeObjects(TimeSpan.FromHours(2));
        string aObject = store.ObjectPath(store.Entry("a").Manifest[0].Hash);
        store.SetLastUsed("a", Now - TimeSpan.FromDays(29)).SetLastUsed("b", Now - TimeSpan.FromDays(27));

        BuildResult byDefault = workspace.PruneCache().EnsureSucceeded();

        // The default is 28 days: a (29 days) goes, b (27 days) stays.
        byDefault.EnsureLine("Pruned the pipeline cache (entries unused for 28.00:00:00): 1 entry, 1 object, 10 B removed; 19 B kept.");
        Assert.Equal(["b", "c"], store.EntrySteps());
        Assert.False(File.Exists(aObject), "The object of the pruned entry is still there.");
        store.AssertConsistent();

        BuildResult twoDays = workspace.PruneCache(DotnetRunner.Property("PipelineCacheMaxAge", "172800")).EnsureSucceeded();

        twoDays.EnsureLine("Pruned the pipeline cache (entries unused for 2.00:00:00): 1 entry, 1 object, 9 B removed; 10 B kept.");
        Assert.Equal(["c"], store.EntrySteps());
        store.AssertConsistent();
    }

    [Fact]
    public void PruneRemovesLeastRecentlyUsedEntriesUntilTheObjectsFitTheMaximumSize()
    {
        using Workspace workspace = Workspace.Create(package, output);
        // Spaces of known counts; '%*s' because MSBuild would read '%01' in '%0100d' as an escaped character.
        PipelineProject.Create(package.Version)
            .Step("small", "printf '%*s' 100 '' > small.txt", outputs: "small.txt")
            .Step("medium", "printf '%*s' 200 '' > medium.txt", outputs: "medium.txt")
            .Step("large", "printf '%*s' 300 '' > large.txt", outputs: "large.txt")
            .Save(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        // Old enough to collect: housekeeping spares unreferenced objects younger than an hour.
        store.AgeObjects(TimeSpan.FromHours(2));
        Assert.Equal((100L, 200L, 300L), (store.Entry("small").TotalSize, store.Entry("medium").TotalSize, store.Entry("large").TotalSize));
        // Least recently used first: large, then small, then medium. Not by size, not by age of creation.
        store.SetLastUsed("large", Now - TimeSpan.FromHours(3))
            .SetLastUsed("small", Now - TimeSpan.FromHours(2))
            .SetLastUsed("medium", Now - TimeSpan.FromHours(1));

        BuildResult bytes = workspace.PruneCache(DotnetRunner.Property("PipelineCacheMaxSize", "500")).EnsureSucceeded();

        bytes.EnsureLine("Pruned the pipeline cache (entries unused for 28.00:00:00, size above 500 B): 1 entry, 1 object, 300 B removed; 300 B kept.");
        Assert.Equal(["medium", "small"], store.EntrySteps());
        store.AssertConsistent();

        BuildResult withUnit = workspace.PruneCache(DotnetRunner.Property("PipelineCacheMaxSize", "0.25KB")).EnsureSucceeded();

        withUnit.EnsureLine("Pruned the pipeline cache (entries unused for 28.00:00:00, size above 256 B): 1 entry, 1 object, 100 B removed; 200 B kept.");
        Assert.Equal(["medium"], store.EntrySteps());
        store.AssertConsistent();
    }

    [Fact]
    public void EveryRunPrunesByAgeAndSizeAndSaysWhatItRemoved()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveThreeSteps(workspace);
        var store = StoreInspector.Of(workspace);
        BuildResult first = workspace.RunPipeline().EnsureSucceeded();
        // Old enough to collect: housekeeping spares unreferenced objects younger than an hour.
        store.AgeObjects(TimeSpan.FromHours(2));
        Assert.Empty(first.LinesContaining("Pruned the pipeline cache"));
        store.SetLastUsed("a", Now - TimeSpan.FromDays(30)).SetLastUsed("b", Now - TimeSpan.FromHours(2));

        // Only c runs (and is used); a is past the default age. b stays: with a gone, b and c fit 19 B.
        BuildResult byAge = workspace.RunPipeline(DotnetRunner.Property("PipelineSteps", "c"), DotnetRunner.Property("PipelineCacheMaxSize", "19"))
            .EnsureSucceeded();

        byAge.EnsureLine("Using cached version of c.");
        byAge.EnsureLine("Pruned the pipeline cache: 1 entry, 1 object, 10 B removed.");
        Assert.Equal(["b", "c"], store.EntrySteps());
        store.AssertConsistent();

        // c was just used, b was not: b goes to fit 10 B.
        BuildResult bySize = workspace.RunPipeline(DotnetRunner.Property("PipelineSteps", "c"), DotnetRunner.Property("PipelineCacheMaxSize", "10"))
            .EnsureSucceeded();

        bySize.EnsureLine("Pruned the pipeline cache: 1 entry, 1 object, 9 B removed.");
        Assert.Equal(["c"], store.EntrySteps());
        store.AssertConsistent();
    }

    [Fact]
    public void PruneCollectsObjectsNoEntryRefersTo()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveThreeSteps(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        // What a crash between storing an object and recording its entry leaves behind...
        string orphan = Path.Combine(store.ObjectsDirectory, "ab", "ab" + new string('0', 30));
        Directory.CreateDirectory(Path.GetDirectoryName(orphan)!);
        File.WriteAllText(orphan, "orphan!");
        // ...and an object another build is writing right now, under its temporary name.
        string inFlight = Path.Combine(store.ObjectsDirectory, "tmp", Guid.NewGuid().ToString("N"));
        File.WriteAllText(inFlight, "being written");
        // Old enough to collect (not the temporary file): housekeeping spares unreferenced objects younger than an hour.
        store.AgeObjects(TimeSpan.FromHours(2));

        BuildResult result = workspace.PruneCache().EnsureSucceeded();

        result.EnsureLine("Pruned the pipeline cache (entries unused for 28.00:00:00): 0 entries, 1 object, 7 B removed; 29 B kept.");
        Assert.False(File.Exists(orphan), "The orphaned object is still there.");
        Assert.True(File.Exists(inFlight), "A fresh temporary file of another build was deleted.");
        Assert.Equal(["a", "b", "c"], store.EntrySteps());
        store.AssertConsistent();
    }

    /// <summary>Three independent steps whose outputs are 10, 9 and 10 bytes (29 B in all).</summary>
    private void SaveThreeSteps(Workspace workspace) =>
        PipelineProject.Create(package.Version)
            .Step("a", "printf 0123456789 > a.txt", outputs: "a.txt")
            .Step("b", "printf abcdefghi > b.txt", outputs: "b.txt")
            .Step("c", "printf ABCDEFGHIJ > c.txt", outputs: "c.txt")
            .Save(workspace);
}
