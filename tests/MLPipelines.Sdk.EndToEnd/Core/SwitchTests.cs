using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// Turning the cache off (SPEC <c>EnableCache</c>, <c>EnablePipelineCache</c>): per step, as the project's default
/// (a step's own metadata wins), and from the command line (which wins over every step).
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class SwitchTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void AStepWithEnableCacheFalseAlwaysExecutesWhileTheOthersHit()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .TracedStep("train", "echo trained > model.txt", outputs: "model.txt")
            .TracedStep("notify", "echo notified > notice.txt", outputs: "notice.txt", dependsOn: "train", metadata: [new("EnableCache", "false")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("notify", "cache disabled");
        workspace.ClearExecuted();

        BuildResult result = workspace.RunPipeline().EnsureSucceeded();

        result.EnsureHit("train").EnsureMiss("notify", "cache disabled");
        Assert.Equal(["notify"], workspace.Executed());
        // Only cacheable steps count (issue 11): notify cannot hit, so it does not keep the rate below 100%.
        Assert.Equal("Pipeline pipeline: 2 steps, 1 cached, 1 executed, hit rate 100% of 1 cacheable step", result.Summary());
    }

    [Fact]
    public void EnablePipelineCacheFalseInTheProjectIsTheDefaultButAStepsOwnEnableCacheWins()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Property("EnablePipelineCache", "false")
            .TracedStep("plain", "echo plain > plain.txt", outputs: "plain.txt")
            .TracedStep("cached", "echo cached > cached.txt", outputs: "cached.txt", metadata: [new("EnableCache", "true")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded()
            .EnsureMiss("plain", "cache disabled")
            .EnsureMiss("cached", "no earlier result");
        workspace.ClearExecuted();

        BuildResult result = workspace.RunPipeline().EnsureSucceeded();

        result.EnsureMiss("plain", "cache disabled").EnsureHit("cached");
        Assert.Equal(["plain"], workspace.Executed());
    }

    [Fact]
    public void EnablePipelineCacheFalseOnTheCommandLineExecutesEveryStepEvenOneWithEnableCacheTrue()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .TracedStep("plain", "echo plain > plain.txt", outputs: "plain.txt")
            .TracedStep("cached", "echo cached > cached.txt", outputs: "cached.txt", metadata: [new("EnableCache", "true")])
            .Save(workspace);
        string cacheOff = DotnetRunner.Property("EnablePipelineCache", "false");
        workspace.RunPipeline(cacheOff).EnsureSucceeded()
            .EnsureMiss("plain", "cache disabled")
            .EnsureMiss("cached", "cache disabled");
        // Executed with the cache off, the results were still recorded: a run with the cache on reuses them.
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("plain").EnsureHit("cached");
        workspace.ClearExecuted();

        BuildResult result = workspace.RunPipeline(cacheOff).EnsureSucceeded();

        result.EnsureMiss("plain", "cache disabled").EnsureMiss("cached", "cache disabled");
        Assert.Equal(["cached", "plain"], workspace.Executed().Order(StringComparer.Ordinal));
        Assert.Equal("Pipeline pipeline: 2 steps, 0 cached, 2 executed, no cacheable steps", result.Summary());
    }
}
