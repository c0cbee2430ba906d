using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// SPEC "Failure and bad input": a failing step is an error with its exit code, is never cached, stops what depends
/// on it but not what runs beside it; after a fix only what did not succeed executes. A step that "succeeds" without
/// writing its declared output is an error too, and is not cached.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class FailureTests(SdkPackage package, ITestOutputHelper output)
{
    // The two steps wait for each other's marker files (bounded: at most 30s), so "side" is certainly still running
    // when "broken" fails, on any number of cores. Backticks, not $((…)), which MSBuild would read as a property.
    private const string BrokenCommand =
        "for i in `seq 600`; do test -f side.running && break; sleep 0.05; done; echo > broken.exiting; exit 3";

    private const string SideCommand =
        "echo > side.running; for i in `seq 600`; do test -f broken.exiting && break; sleep 0.05; done; echo side > side.txt";

    [Fact]
    public void AFailingStepStopsItsDownstreamButNotAParallelStepAndAFixReusesEverythingThatSucceeded()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveFailingPipeline(workspace, BrokenCommand);

        BuildResult failed = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = Assert.Single(failed.Errors);
        Assert.Equal("MLP2001", error.Code);
        Assert.Contains("'broken'", error.Message, StringComparison.Ordinal);
        Assert.Contains("exit code 3", error.Message, StringComparison.Ordinal);
        Assert.Equal(workspace.GetPath(PipelineRuns.Project), error.File);
        failed.EnsureLine("Step after was not run: needs broken, which failed.");
        failed.EnsureMiss("side", "no earlier result").EnsureMiss("prep", "no earlier result");
        Assert.Equal("Pipeline pipeline: 4 steps, 0 cached, 2 executed, 1 failed, 1 not run, hit rate 0%", failed.Summary());
        Assert.Equal(["broken", "prep", "side"], workspace.Executed().Order(StringComparer.Ordinal));
        Assert.Equal("side\n", workspace.ReadFile("side.txt"));
        Assert.False(workspace.FileExists("after.txt"), failed.ToString());
        var store = StoreInspector.Of(workspace);
        Assert.Equal(["prep", "side"], store.EntrySteps());
        Assert.Equal(["failed"], store.Runs().Select(r => r.Status));

        SaveFailingPipeline(workspace, "echo fixed > broken.txt");
        workspace.ClearExecuted();
        BuildResult fixedRun = workspace.RunPipeline().EnsureSucceeded();

        fixedRun.EnsureHit("prep").EnsureHit("side");
        // A failure records no entry, so there is nothing to compare the fixed step with.
        fixedRun.EnsureMiss("broken", "no earlier result").EnsureMiss("after", "no earlier result");
        Assert.Equal(["broken", "after"], workspace.Executed());
        Assert.Equal("fixed\n", workspace.ReadFile("after.txt"));
        Assert.Equal("Pipeline pipeline: 4 steps, 2 cached, 2 executed, hit rate 50%", fixedRun.Summary());
    }

    [Fact]
    public void AStepThatDoesNotWriteItsDeclaredOutputIsAnErrorAndIsNotCached()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .TracedStep("forgetful", "echo written > other.txt", outputs: "promised.txt")
            .Save(workspace);

        BuildResult first = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = Assert.Single(first.Errors);
        Assert.Equal("MLP2002", error.Code);
        Assert.Contains("'forgetful'", error.Message, StringComparison.Ordinal);
        Assert.Contains("promised.txt", error.Message, StringComparison.Ordinal);
        Assert.Equal(workspace.GetPath(PipelineRuns.Project), error.File);
        Assert.Empty(StoreInspector.Of(workspace).Entries());

        BuildResult second = workspace.RunPipeline().EnsureFailed();

        second.EnsureLine("Cache miss for forgetful: no earlier result.");
        Assert.True(second.HasError("MLP2002"), second.ToString());
        Assert.Equal(["forgetful", "forgetful"], workspace.Executed());
    }

    private void SaveFailingPipeline(Workspace workspace, string brokenCommand) =>
        PipelineProject.Create(package.Version)
            .Property("PipelineMaxParallelism", "4")
            .TracedStep("prep", "echo prep > prep.txt", outputs: "prep.txt")
            .TracedStep("broken", brokenCommand, inputs: "prep.txt", outputs: "broken.txt")
            .TracedStep("after", "cat broken.txt > after.txt", inputs: "broken.txt", outputs: "after.txt")
            .TracedStep("side", SideCommand, outputs: "side.txt")
            .Save(workspace);
}
