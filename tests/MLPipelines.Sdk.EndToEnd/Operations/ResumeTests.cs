using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>
/// SPEC <c>PipelineResumeFrom</c>: upstream steps are restored, never executed (from a given run's results when a
/// run id is named); the named step and everything downstream execute; what cannot be restored is a clear error.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class ResumeTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void ResumingFromAStepRestoresUpstreamAndExecutesItAndEverythingDownstream()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SavePipeline(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        workspace.Delete("a.txt");

        BuildResult result = workspace.RunPipeline(DotnetRunner.Property("PipelineResumeFrom", "b")).EnsureSucceeded();

        result.EnsureLine("Using cached version of a.");
        result.EnsureLine("Restored 1 output file of a from the cache.");
        result.EnsureLine("Cache miss for b: resumed from b.");
        result.EnsureLine("Cache miss for c: resumed from b.");
        result.EnsureLine("Using cached version of d.");
        Assert.Equal((1, 2, 2, 1), Executions(workspace));
        Assert.Equal("a1", workspace.ReadFile("a.txt"));
        Assert.Equal("a1bc", workspace.ReadFile("c.txt"));
        IReadOnlyDictionary<string, StepRunRow> steps = store.StepRuns(store.LatestRun().Id);
        Assert.Equal(("cached", "executed", "executed", "cached"), (steps["a"].Outcome, steps["b"].Outcome, steps["c"].Outcome, steps["d"].Outcome));
        Assert.Equal("resumed from b", steps["b"].Reason);
        Assert.Equal("succeeded", store.LatestRun().Status);
    }

    [Fact]
    public void ResumingFromARunRestoresTheResultsThatRunRecorded()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SavePipeline(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline(G("1")).EnsureSucceeded();
        string first = store.LatestRun().Id;
        workspace.RunPipeline(G("2")).EnsureSucceeded();
        Assert.Equal("a2bc", workspace.ReadFile("c.txt"));

        BuildResult result = workspace.RunPipeline(G("1"), DotnetRunner.Property("PipelineResumeFrom", $"{first}:b")).EnsureSucceeded();

        // a comes back as the first run left it, without executing; b and c execute on it.
        result.EnsureLine("Using cached version of a.");
        result.EnsureLine($"Cache miss for b: resumed from {first}:b.");
        result.EnsureLine($"Cache miss for c: resumed from {first}:b.");
        Assert.Equal((2, 3, 3, 1), Executions(workspace));
        Assert.Equal("a1", workspace.ReadFile("a.txt"));
        Assert.Equal("a1bc", workspace.ReadFile("c.txt"));
        Assert.Equal(store.StepRuns(first)["a"].Key, store.StepRuns(store.LatestRun().Id)["a"].Key);
    }

    [Fact]
    public void ResumingFromARunWhoseResultALaterRunReplacedIsAnErrorInThePlanAndTheRun()
    {
        // F4: a step that is not reproducible, forced under the same key, replaced the entry; resuming from the first
        // run restored the newer result and b ran on it.
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("a", "cat /proc/sys/kernel/random/uuid > a.txt", outputs: "a.txt")
            .Step("b", "cat a.txt > b.txt", inputs: "a.txt", outputs: "b.txt")
            .Save(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        string first = store.LatestRun().Id;
        string firstA = workspace.ReadFile("a.txt");
        workspace.RunPipeline(DotnetRunner.Property("PipelineForce", "a")).EnsureSucceeded();
        string forcedA = workspace.ReadFile("a.txt");
        Assert.NotEqual(firstA, forcedA);
        string resume = DotnetRunner.Property("PipelineResumeFrom", $"{first}:b");

        BuildResult plan = workspace.PlanPipeline(resume).EnsureSucceeded();
        BuildResult result = workspace.RunPipeline(resume).EnsureFailed();

        string gone = $"the result run {first} recorded for step 'a' is gone (replaced by a later run)";
        Assert.Single(plan.LinesContaining(gone));
        BuildMessage error = Assert.Single(result.Errors);
        Assert.Equal("MLP2007", error.Code);
        Assert.Contains(gone, error.Message, StringComparison.Ordinal);
        Assert.Equal(forcedA, workspace.ReadFile("a.txt"));
        Assert.Equal(forcedA, workspace.ReadFile("b.txt"));
    }

    [Fact]
    public void ResumingFromARunWhoseUpstreamInputsChangedIsAnErrorNamingTheStep()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SavePipeline(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline(G("1")).EnsureSucceeded();
        string first = store.LatestRun().Id;

        BuildResult result = workspace.RunPipeline(G("2"), DotnetRunner.Property("PipelineResumeFrom", $"{first}:b")).EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors);
        Assert.Equal("MLP2007", error.Code);
        Assert.Contains("'a'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"changed since run {first}", error.Message, StringComparison.Ordinal);
        Assert.Contains("parameter G changed (1 -> 2)", error.Message, StringComparison.Ordinal);
        // Nothing executed: not a (it may only be restored), not what depends on it.
        Assert.Equal((1, 1, 1), (workspace.Executions("a"), workspace.Executions("b"), workspace.Executions("c")));
        Assert.Equal("a1", workspace.ReadFile("a.txt"));
        Assert.Equal("failed", store.LatestRun().Status);
    }

    [Fact]
    public void ResumingFromAStepWhoseUpstreamInputsChangedIsAnErrorSayingWhatChanged()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SavePipeline(workspace);
        workspace.RunPipeline(G("1")).EnsureSucceeded();

        BuildResult result = workspace.RunPipeline(G("2"), DotnetRunner.Property("PipelineResumeFrom", "b")).EnsureFailed();

        // a would have to execute for its new parameter, but an upstream step of a resumed run is only restored.
        BuildMessage error = Assert.Single(result.Errors);
        Assert.Equal("MLP2007", error.Code);
        Assert.Contains("upstream step 'a'", error.Message, StringComparison.Ordinal);
        Assert.Contains("parameter G changed (1 -> 2)", error.Message, StringComparison.Ordinal);
        Assert.Equal((1, 1, 1), (workspace.Executions("a"), workspace.Executions("b"), workspace.Executions("c")));
    }

    [Fact]
    public void ResumingWhenAnUpstreamResultIsGoneIsAnErrorNamingTheStep()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SavePipeline(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        string first = store.LatestRun().Id;
        workspace.ClearCache(DotnetRunner.Property("PipelineSteps", "a")).EnsureSucceeded();

        foreach (string resumeFrom in new[] { "b", $"{first}:b" })
        {
            BuildResult result = workspace.RunPipeline(DotnetRunner.Property("PipelineResumeFrom", resumeFrom)).EnsureFailed();

            BuildMessage error = Assert.Single(result.Errors);
            Assert.Equal("MLP2007", error.Code);
            Assert.Contains("upstream step 'a'", error.Message, StringComparison.Ordinal);
            Assert.Contains("gone", error.Message, StringComparison.Ordinal);
            result.EnsureLine("Step b was not run: needs a, which failed.");
            Assert.Equal((1, 1, 1), (workspace.Executions("a"), workspace.Executions("b"), workspace.Executions("c")));
        }
    }

    [Fact]
    public void ResumingFromAnUnknownStepIsAConfigurationError()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SavePipeline(workspace);

        BuildResult result = workspace.RunPipeline(DotnetRunner.Property("PipelineResumeFrom", "nope")).EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors);
        Assert.Equal("MLP1016", error.Code);
        Assert.Contains("'nope'", error.Message, StringComparison.Ordinal);
        Assert.Equal((0, 0, 0, 0), Executions(workspace));
    }

    [Fact]
    public void ResumingFromAnUnknownRunIsAnError()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SavePipeline(workspace);

        BuildResult result = workspace.RunPipeline(DotnetRunner.Property("PipelineResumeFrom", "20200101-000000-abcdef:b")).EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors);
        Assert.Equal("MLP1017", error.Code);
        Assert.Contains("'20200101-000000-abcdef'", error.Message, StringComparison.Ordinal);
        Assert.Equal((0, 0, 0, 0), Executions(workspace));
    }

    /// <summary>a (parameter G) -> b -> c, and d on its own; each counts its executions in &lt;step&gt;.log.</summary>
    private void SavePipeline(Workspace workspace) =>
        PipelineProject.Create(package.Version)
            .PropertyDefault("G", "1")
            .CountedStep("a", "printf 'a%s' \"$PARAM_G\" > a.txt", outputs: "a.txt", parameters: "G=$(G)")
            .CountedStep("b", "cat a.txt > b.txt && printf b >> b.txt", inputs: "a.txt", outputs: "b.txt")
            .CountedStep("c", "cat b.txt > c.txt && printf c >> c.txt", inputs: "b.txt", outputs: "c.txt")
            .CountedStep("d", "printf d > d.txt", outputs: "d.txt")
            .Save(workspace);

    private static string G(string value) => DotnetRunner.Property("G", value);

    private static (int A, int B, int C, int D) Executions(Workspace workspace) =>
        (workspace.Executions("a"), workspace.Executions("b"), workspace.Executions("c"), workspace.Executions("d"));
}
