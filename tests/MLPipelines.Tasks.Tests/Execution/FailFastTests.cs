using MLPipelines.Engine;
using MLPipelines.Engine.Execution;
using MLPipelines.Tasks.Tests.TestKit;
using System.Runtime.Versioning;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// Issue 11, item 11: after a failure no new step starts (hits included) unless <c>PipelineContinueOnError</c>; steps
/// already running finish and are stored; the summary, the run record and the MLP2001 error say what happened.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class FailFastTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    private TempDirectory Project => _pipeline.Project;

    private const string Stopped = "stopped after bad failed; set PipelineContinueOnError=true to keep going";

    /// <summary>
    /// bad, hit (independent of bad) and after (needs hit), declared in that order and run one at a time, so bad runs
    /// first and hit would start right after it.
    /// </summary>
    private void Declare(string badCommand) => _pipeline
        .Step("bad", badCommand)
        .Step("hit", "printf hit > hit.txt", ("Outputs", "hit.txt"))
        .Step("after", "cat hit.txt > after.txt", ("Inputs", "hit.txt"), ("Outputs", "after.txt"));

    private static Func<Engine.Configuration.PipelineOptions, Engine.Configuration.PipelineOptions> OneAtATime(bool continueOnError = false) =>
        o => o with { MaxParallelism = 1, ContinueOnError = continueOnError };

    [Fact]
    public async Task ByDefaultNoStepStartsAfterAFailureNotEvenAHit()
    {
        Declare("true");
        (await _pipeline.RunAsync(OneAtATime())).AssertOutcome("hit", StepOutcome.Executed).AssertOutcome("after", StepOutcome.Executed);
        Declare("echo 'loading data' && echo 'ValueError: gamma must be positive' >&2 && exit 2");
        File.Delete(Project.Combine("hit.txt"));

        var run = await _pipeline.RunAsync(OneAtATime());

        run.AssertOutcome("bad", StepOutcome.Failed).AssertOutcome("hit", StepOutcome.NotRun).AssertOutcome("after", StepOutcome.NotRun);
        Assert.Equal(Stopped, run["hit"].MissReason);
        Assert.Equal("needs hit, which did not run", run["after"].MissReason);
        // Not restored: a hit is a step started, and restoring changes the working tree.
        Assert.False(Project.Exists("hit.txt"));
        run.AssertMessage($"not run: hit ({Stopped})");
        run.AssertMessage("not run: after (needs hit, which did not run)");

        // The MLP2001 error carries the end of standard error, and says how to keep going.
        var error = run.SingleError(ErrorCodes.StepFailed);
        Assert.Contains("ValueError: gamma must be positive", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("loading data", error.Message, StringComparison.Ordinal);
        Assert.Contains("PipelineContinueOnError=true", error.Message, StringComparison.Ordinal);

        // The run record shows them as not run, with the reason.
        using var store = _pipeline.OpenStore();
        var recorded = store.FindRunSteps(run.Result.RunId)!.ToDictionary(r => r.Step);
        Assert.Equal(("notrun", Stopped), (recorded["hit"].Outcome, recorded["hit"].Reason));
        Assert.Equal(("notrun", "needs hit, which did not run"), (recorded["after"].Outcome, recorded["after"].Reason));
        Assert.Equal("failed", run.Result.Status);
    }

    [Fact]
    public async Task WithContinueOnErrorIndependentStepsRunAndHitsRestore()
    {
        Declare("true");
        await _pipeline.RunAsync(OneAtATime());
        Declare("exit 2");
        File.Delete(Project.Combine("hit.txt"));

        var run = await _pipeline.RunAsync(OneAtATime(continueOnError: true));

        run.AssertOutcome("bad", StepOutcome.Failed).AssertOutcome("hit", StepOutcome.Cached).AssertOutcome("after", StepOutcome.Cached);
        Assert.Equal("hit", Project.Read("hit.txt"));
        Assert.False(run.Result.Succeeded);
        var error = run.SingleError(ErrorCodes.StepFailed);
        Assert.Contains("steps that depend on it do not run", error.Message, StringComparison.Ordinal);
        Assert.Contains("It wrote nothing to standard error.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStepAlreadyRunningFinishesAndIsStored()
    {
        // Both start at once; slow goes on until bad has started (so bad's failure comes while slow runs).
        _pipeline
            .Step("bad", "touch bad-started && exit 1")
            .Step("slow", "i=0; while [ ! -e bad-started ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; printf done > slow.txt", ("Outputs", "slow.txt"));

        var run = await _pipeline.RunAsync(o => o with { MaxParallelism = 2 });

        run.AssertOutcome("bad", StepOutcome.Failed).AssertOutcome("slow", StepOutcome.Executed);
        using var store = _pipeline.OpenStore();
        Assert.Equal(["slow"], store.AllEntries().Select(e => e.Step));
    }
}
