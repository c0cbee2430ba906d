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
        workspace.RunPipeline().EnsureSucceeded().EnsureExecuted("notify", "cache disabled");
        workspace.ClearExecuted();

        BuildResult result = workspace.RunPipeline().EnsureSucceeded();

        result.EnsureCached("train").EnsureExecuted("notify", "cache disabled");
        Assert.Equal(["notify"], workspace.Executed());
        Assert.Equal("Pipeline pipeline: 2 steps, 1 cached, 1 executed, hit rate 50%", result.Summary());
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
            .EnsureExecuted("plain", "cache disabled")
            .EnsureExecuted("cached", "no earlier result");
        workspace.ClearExecuted();

        BuildResult result = workspace.RunPipeline().EnsureSucceeded();

        result.EnsureExecuted("plain", "cache disabled").EnsureCached("cached");
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
            .EnsureExecuted("plain", "cache disabled")
            .EnsureExecuted("cached", "cache disabled");
        // Executed with the cache off, the results were still recorded: a run with the cache on reuses them.
        workspace.RunPipeline().EnsureSucceeded().EnsureCached("plain").EnsureCached("cached");
        workspace.ClearExecuted();

        BuildResult result = workspace.RunPipeline(cacheOff).EnsureSucceeded();

        result.EnsureExecuted("plain", "cache disabled").EnsureExecuted("cached", "cache disabled");
        Assert.Equal(["cached", "plain"], workspace.Executed().Order(StringComparer.Ordinal));
        Assert.Equal("Pipeline pipeline: 2 steps, 0 cached, 2 executed, hit rate 0%", result.Summary());
    }
}
