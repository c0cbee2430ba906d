using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Policies;

/// <summary>
/// Issue 11 item 7: sizes and durations with units (<c>10M</c>, <c>1.5k</c>, <c>1h</c>, <c>7d</c>) in every property
/// and metadata that takes one, read by the packed SDK; a bad value lists the accepted forms.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class UnitTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void LimitsAndTimeoutsTakeUnits()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("a", "printf aaaaaaaaaa > a.txt", outputs: "a.txt", metadata: [new("ExpiresAfter", "1h")])
            .Step("b", "printf bbbbbbbbbbbbbbbbbbbb > b.txt", outputs: "b.txt", metadata: [new("ExpiresAfter", "7d")])
            .Save(workspace);
        var store = StoreInspector.Of(workspace);

        workspace.RunPipeline(DotnetRunner.Property("PipelineCacheMaxSize", "10M"), DotnetRunner.Property("PipelineCacheMaxAge", "7d"),
            DotnetRunner.Property("PipelineLockTimeout", "1h")).EnsureSucceeded();

        // Both results were made 2 hours ago: past ExpiresAfter=1h for a (executes again), inside 7d for b (hit).
        store.AgeEntries("a", TimeSpan.FromHours(2)).AgeEntries("b", TimeSpan.FromHours(2));
        BuildResult second = workspace.RunPipeline().EnsureSucceeded();
        second.EnsureHit("b");
        Assert.StartsWith("expired", second.MissReason("a"), StringComparison.Ordinal);

        // Age in hours: b, unused for 3 hours, goes; a, just used, stays.
        store.SetLastUsed("b", DateTimeOffset.UtcNow.AddHours(-3));
        BuildResult byAge = workspace.PruneCache(DotnetRunner.Property("PipelineCacheMaxAge", "2h")).EnsureSucceeded();
        Assert.Single(byAge.LinesContaining("Pruned the pipeline cache (entries unused for 02:00:00): 1 entry"));
        Assert.Equal(["a"], store.EntrySteps());

        // A size with a decimal and a unit: 0.005K is 5 bytes, under a's 10: a goes too.
        BuildResult bySize = workspace.PruneCache(DotnetRunner.Property("PipelineCacheMaxSize", "0.005K")).EnsureSucceeded();
        Assert.Single(bySize.LinesContaining("size above 5 B): 1 entry"));
        Assert.Empty(store.EntrySteps());
    }

    [Fact]
    public void BadValuesListTheAcceptedForms()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("a", "printf a > a.txt", outputs: "a.txt", metadata: [new("ExpiresAfter", "7 days")])
            .Save(workspace);

        BuildResult property = workspace.PruneCache(DotnetRunner.Property("PipelineCacheMaxSize", "10Q")).EnsureFailed();
        BuildMessage size = Assert.Single(property.Errors);
        Assert.Equal("MLP1014", size.Code);
        Assert.Contains("PipelineCacheMaxSize='10Q' is not valid: give bytes (1048576), or a number with a unit: B, K/KB/KiB, M/MB/MiB", size.Message, StringComparison.Ordinal);

        BuildResult metadata = workspace.RunPipeline(DotnetRunner.Property("PipelineLockTimeout", "-1h")).EnsureFailed();
        Assert.Equal(["MLP1010", "MLP1014"], metadata.Errors.Select(e => e.Code).Distinct().Order(StringComparer.Ordinal));
        Assert.Contains(metadata.Errors, e => e.Message.Contains("ExpiresAfter '7 days' of step 'a' is not valid: give a positive duration: seconds (3600), a number with a unit: ms, s, m/min, h, d, w", StringComparison.Ordinal));
        Assert.Contains(metadata.Errors, e => e.Message.StartsWith("Property PipelineLockTimeout='-1h' is not valid: give a duration (0 or more)", StringComparison.Ordinal));
        Assert.False(workspace.FileExists("a.txt"));
    }

    [Fact]
    public void ExpiresAfterOnAnItemDefinitionGroupTakesUnitsAndCountsTakeDigitsOnly()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .ItemDefinition("ExpiresAfter", "1.5h")
            .Step("a", "printf a > a.txt", outputs: "a.txt")
            .Save(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline(DotnetRunner.Property("PipelineMaxParallelism", "2")).EnsureSucceeded();

        store.AgeEntries("a", TimeSpan.FromHours(1));
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("a");
        store.AgeEntries("a", TimeSpan.FromHours(1));
        Assert.StartsWith("expired", workspace.RunPipeline().EnsureSucceeded().MissReason("a"), StringComparison.Ordinal);

        // A count is digits, as a size's or duration's number: a sign is refused there (+5M, -1h) and here.
        BuildResult signed = workspace.RunPipeline(DotnetRunner.Property("PipelineMaxParallelism", "+2")).EnsureFailed();
        BuildMessage error = Assert.Single(signed.Errors);
        Assert.Equal("MLP1014", error.Code);
        Assert.Equal("Property PipelineMaxParallelism='+2' is not valid: give a whole number of 1 or more (digits only: 4, 1000).", error.Message);
    }
}
