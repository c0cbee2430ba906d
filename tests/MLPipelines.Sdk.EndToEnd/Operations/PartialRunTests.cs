using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>SPEC <c>PipelineSteps</c>: only the named steps and the upstream steps they need run, nothing else.</summary>
[Collection(EndToEndSuite.Name)]
public sealed class PartialRunTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void SelectedStepsRunWithTheirUpstreamStepsRestoredWhereTheyHit()
    {
        using Workspace workspace = Workspace.Create(package, output);
        // a -> b -> c, and d on its own.
        PipelineProject.Create(package.Version)
            .CountedStep("a", "printf a > a.txt", outputs: "a.txt")
            .CountedStep("b", "cat a.txt > b.txt", inputs: "a.txt", outputs: "b.txt")
            .CountedStep("c", "cat b.txt > c.txt", inputs: "b.txt", outputs: "c.txt")
            .CountedStep("d", "printf d > d.txt", outputs: "d.txt")
            .Save(workspace);
        var store = StoreInspector.Of(workspace);

        BuildResult onlyB = workspace.RunPipeline(DotnetRunner.Property("PipelineSteps", "b")).EnsureSucceeded();

        Assert.StartsWith("Pipeline pipeline: 2 steps, 0 cached, 2 executed, hit rate 0%", onlyB.Summary(), StringComparison.Ordinal);
        Assert.Equal((1, 1, 0, 0), (workspace.Executions("a"), workspace.Executions("b"), workspace.Executions("c"), workspace.Executions("d")));
        Assert.False(onlyB.HasLine("Step c has started."), onlyB.ToString());
        Assert.False(onlyB.HasLine("Step d has started."), onlyB.ToString());
        Assert.False(workspace.FileExists("c.txt") || workspace.FileExists("d.txt"), "c or d wrote an output.");
        Assert.Equal(["a", "b"], store.StepRuns(store.LatestRun().Id).Keys.Order(StringComparer.Ordinal));

        // a is needed by b: restored from the cache, not executed. c still does not run.
        workspace.Delete("a.txt");
        BuildResult bAndD = workspace.RunPipeline(DotnetRunner.Property("PipelineSteps", "b;d")).EnsureSucceeded();

        Assert.StartsWith("Pipeline pipeline: 3 steps, 2 cached, 1 executed, hit rate 67%", bAndD.Summary(), StringComparison.Ordinal);
        bAndD.EnsureLine("Using cached version of a.");
        bAndD.EnsureLine("Restored 1 output file of a from the cache.");
        bAndD.EnsureLine("Using cached version of b.");
        bAndD.EnsureLine("Cache miss for d: no earlier result.");
        Assert.Equal((1, 1, 0, 1), (workspace.Executions("a"), workspace.Executions("b"), workspace.Executions("c"), workspace.Executions("d")));
        Assert.Equal("a", workspace.ReadFile("a.txt"));
        Assert.False(workspace.FileExists("c.txt"), "c wrote an output.");
        IReadOnlyDictionary<string, StepRunRow> steps = store.StepRuns(store.LatestRun().Id);
        Assert.Equal(["a", "b", "d"], steps.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(("cached", "cached", "executed"), (steps["a"].Outcome, steps["b"].Outcome, steps["d"].Outcome));
    }

    [Fact]
    public void AnUnknownSelectedStepIsAnErrorAndNothingRuns()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .CountedStep("a", "printf a > a.txt", outputs: "a.txt")
            .Save(workspace);

        BuildResult result = workspace.RunPipeline(DotnetRunner.Property("PipelineSteps", "a;nope")).EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors);
        Assert.Equal("MLP1015", error.Code);
        Assert.Contains("'nope'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, workspace.Executions("a"));
    }
}
