using System.Runtime.Versioning;
using MLPipelines.Engine.Execution;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// Issue 11, item 6: the hit rate counts only cacheable steps (cache on in the run), one rule
/// (<see cref="HitRate"/>) for the summary line, the reports and the run record that ListPipelineRuns shows.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class HitRateTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    [Theory]
    [InlineData(3, 3, 3, "hit rate 100%", "100%")]
    [InlineData(1, 3, 3, "hit rate 33%", "33%")]
    [InlineData(2, 2, 3, "hit rate 100% of 2 cacheable steps", "100%")]
    [InlineData(0, 1, 4, "hit rate 0% of 1 cacheable step", "0%")]
    [InlineData(0, 0, 2, "no cacheable steps", "-")]
    [InlineData(0, 0, 0, "no cacheable steps", "-")]
    public void OneRuleForTheTextAndTheTableCell(int cached, int cacheable, int steps, string text, string cell)
    {
        Assert.Equal(text, HitRate.Describe(cached, cacheable, steps));
        Assert.Equal(cell, HitRate.Cell(cached, cacheable));
    }

    [Fact]
    public async Task ACacheDisabledStepDoesNotKeepAFullyCachedRunBelow100Percent()
    {
        _pipeline
            .Step("load", "printf 1 > data.txt", ("Outputs", "data.txt"))
            .Step("train", "cat data.txt > model.txt", ("Inputs", "data.txt"), ("Outputs", "model.txt"))
            .Step("notify", "echo done", ("DependsOn", "train"), ("EnableCache", "false"));
        await _pipeline.RunAsync();

        var second = await _pipeline.RunAsync();

        second.AssertOutcome("load", StepOutcome.Cached).AssertOutcome("train", StepOutcome.Cached).AssertOutcome("notify", StepOutcome.Executed);
        Assert.Equal(100, second.Result.HitRatePercent);
        Assert.Equal(2, second.Result.CacheableCount);
        Assert.Matches(@"^Pipeline p: 3 steps, 2 cached, 1 executed, hit rate 100% of 2 cacheable steps, \d+\.\ds\.$", second.Message("Pipeline p:"));

        // The run record keeps the count, so ListPipelineRuns applies the same rule to the same numbers.
        using var store = _pipeline.OpenStore();
        var recorded = store.ListRuns(1).Single();
        Assert.Equal((3, 2, 2), (recorded.StepsTotal, recorded.StepsCached, recorded.StepsCacheable));
        Assert.Equal("100%", HitRate.Cell(recorded.StepsCached, recorded.StepsCacheable));
    }

    [Fact]
    public async Task WithTheCacheOffForEveryStepThereIsNoHitRate()
    {
        _pipeline.Step("a", "printf a > a.txt", ("Outputs", "a.txt")).Step("b", "printf b > b.txt", ("Outputs", "b.txt"));

        var run = await _pipeline.RunAsync(o => o with { CacheOverride = false });

        Assert.Null(run.Result.HitRatePercent);
        Assert.Matches(@"^Pipeline p: 2 steps, 0 cached, 2 executed, no cacheable steps, \d+\.\ds\.$", run.Message("Pipeline p:"));
        using var store = _pipeline.OpenStore();
        Assert.Equal("-", HitRate.Cell(store.ListRuns(1).Single().StepsCached, store.ListRuns(1).Single().StepsCacheable));
    }

    [Fact]
    public async Task AForcedStepStaysCacheable()
    {
        _pipeline.Step("a", "printf a > a.txt", ("Outputs", "a.txt")).Step("b", "printf b > b.txt", ("Outputs", "b.txt"));
        await _pipeline.RunAsync();

        var run = await _pipeline.RunAsync(o => o with { ForcedSteps = ["b"] });

        Assert.Equal(50, run.Result.HitRatePercent);
        Assert.Matches(@"^Pipeline p: 2 steps, 1 cached, 1 executed, hit rate 50%, \d+\.\ds\.$", run.Message("Pipeline p:"));
    }
}
