using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>
/// Issue 11 items 3 and 4: lists of step names take <c>,</c> as well as <c>;</c> (the forms of the command line the
/// README shows), and a step name a target cannot act on is an error, never a silent no-op.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class StepSelectionTests(SdkPackage package, ITestOutputHelper output)
{
    private static PipelineProject Pipeline(string version, bool withD = true)
    {
        // a -> b; c depends on a and b (declared with a comma); d on its own.
        PipelineProject project = PipelineProject.Create(version)
            .CountedStep("a", "printf a > a.txt", outputs: "a.txt")
            .CountedStep("b", "printf b > b.txt", outputs: "b.txt")
            .Step("c", "echo ran >> c.log && cat a.txt b.txt > c.txt", outputs: "c.txt", dependsOn: "a,b");
        return withD ? project.CountedStep("d", "printf d > d.txt", outputs: "d.txt") : project;
    }

    [Fact]
    public void CommasSeparateStepsInEveryFormTheReadmeShows()
    {
        using Workspace workspace = Workspace.Create(package, output);
        Pipeline(package.Version).Save(workspace);

        // MSBuild itself splits an unquoted -p: value on ',' as on ';' (MSB1006): the README says to quote or escape.
        BuildResult bare = workspace.RunPipeline("-p:PipelineSteps=b,d").EnsureFailed();
        Assert.True(bare.HasError("MSB1006"), bare.ToString());

        // Quoted for MSBuild (the shell passes the quotes on): "-p:PipelineSteps=\"b,d\"".
        BuildResult quoted = workspace.RunPipeline("-p:PipelineSteps=\"b,d\"").EnsureSucceeded();
        Assert.StartsWith("Pipeline pipeline: 2 steps, 0 cached, 2 executed", quoted.Summary(), StringComparison.Ordinal);
        Assert.Equal((0, 1, 1), (workspace.Executions("a"), workspace.Executions("b"), workspace.Executions("d")));

        // Escaped: %2C is a comma, %3B a semicolon.
        BuildResult escaped = workspace.RunPipeline("-p:PipelineSteps=a%2Cb", "-p:PipelineForce=a%2Cb").EnsureSucceeded();
        escaped.EnsureMiss("a", "forced").EnsureMiss("b", "forced");
        Assert.Equal((1, 2, 1), (workspace.Executions("a"), workspace.Executions("b"), workspace.Executions("d")));
        Assert.False(escaped.HasLine("Step c has started."), escaped.ToString());

        // From the environment, where ';' would need quoting in the shell and ',' does not.
        var runner = new DotnetRunner(workspace);
        runner.Environment["PipelineSteps"] = "c,d";
        BuildResult fromEnvironment = runner.RunPipeline().EnsureSucceeded();
        fromEnvironment.EnsureHit("a").EnsureHit("b").EnsureHit("d").EnsureMiss("c", "no earlier result");
        Assert.Equal("ab", workspace.ReadFile("c.txt"));
    }

    [Fact]
    public void DependsOnWithACommaOrdersTheSteps()
    {
        using Workspace workspace = Workspace.Create(package, output);
        Pipeline(package.Version).Save(workspace);

        BuildResult run = workspace.RunPipeline(DotnetRunner.Property("PipelineSteps", "c")).EnsureSucceeded();

        Assert.StartsWith("Pipeline pipeline: 3 steps, 0 cached, 3 executed", run.Summary(), StringComparison.Ordinal);
        int Finished(string step) => run.Lines.ToList().FindIndex(l => l.Trim().StartsWith($"Step {step} has finished", StringComparison.Ordinal));
        int cStarted = run.IndexOfLine("Step c has started.");
        Assert.True(Finished("a") is >= 0 and var a && a < cStarted && Finished("b") is >= 0 and var b && b < cStarted, run.ToString());
        Assert.Equal("ab", workspace.ReadFile("c.txt"));
    }

    [Fact]
    public void ClearingAnUnknownStepIsMLP1015AndClearsNothing()
    {
        using Workspace workspace = Workspace.Create(package, output);
        Pipeline(package.Version).Save(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();

        BuildResult typo = workspace.ClearCache(DotnetRunner.Property("PipelineSteps", "b;trian")).EnsureFailed();

        BuildMessage error = Assert.Single(typo.Errors);
        Assert.Equal("MLP1015", error.Code);
        Assert.Equal(
            "'trian' (from PipelineSteps) is neither a step of pipeline pipeline nor a step with entries in its cache, so nothing was cleared. Its steps: a, b, c, d.",
            error.Message);
        Assert.Equal(workspace.GetPath(PipelineRuns.Project), error.File);
        Assert.Equal(["a", "b", "c", "d"], store.EntrySteps());

        // d is removed from the project, but its entries are still there to clear: that name is accepted.
        Pipeline(package.Version, withD: false).Save(workspace);
        BuildResult removed = workspace.ClearCache("-p:PipelineSteps=\"d,b\"").EnsureSucceeded();
        removed.EnsureLine("Cleared the cache of steps d, b of pipeline pipeline: 2 entries, 2 objects, 2 B removed.");
        Assert.Equal(["a", "c"], store.EntrySteps());

        // Now d is neither: the error lists what can be named.
        BuildResult gone = workspace.ClearCache(DotnetRunner.Property("PipelineSteps", "d")).EnsureFailed();
        Assert.Equal("MLP1015", Assert.Single(gone.Errors).Code);
        Assert.Contains("Its steps: a, b, c.", gone.Errors[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PruneAndListRefuseAStepSelectionTheyWouldIgnore()
    {
        using Workspace workspace = Workspace.Create(package, output);
        Pipeline(package.Version).Save(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();

        // Without the check, this would prune every step's entries with a 1-byte cap, not only b's.
        BuildResult prune = workspace.PruneCache(DotnetRunner.Property("PipelineSteps", "b"), DotnetRunner.Property("PipelineCacheMaxSize", "1")).EnsureFailed();
        BuildMessage error = Assert.Single(prune.Errors);
        Assert.Equal("MLP1024", error.Code);
        Assert.StartsWith("PipelineSteps='b' does not apply to PrunePipelineCache", error.Message, StringComparison.Ordinal);
        Assert.Equal(["a", "b", "c", "d"], store.EntrySteps());

        BuildResult list = workspace.ListRuns(DotnetRunner.Property("PipelineSteps", "b")).EnsureFailed();
        Assert.Equal("MLP1024", Assert.Single(list.Errors).Code);
        Assert.Empty(list.LinesContaining("Runs of pipeline"));

        // A pipeline name with no runs says what the store holds instead of an empty table alone.
        BuildResult other = workspace.ListRuns(DotnetRunner.Property("PipelineName", "pipline")).EnsureSucceeded();
        other.EnsureLine("No run of pipeline pipline is recorded in this cache; it holds runs of: pipeline.");
    }
}
