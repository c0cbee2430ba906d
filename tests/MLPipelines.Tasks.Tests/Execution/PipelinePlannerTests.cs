using System.Runtime.Versioning;
using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Store;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// Issue 11 item 5, "the plan must be the run": <see cref="PipelinePlanner"/> predicts a resume
/// (<c>PipelineResumeFrom</c>) and the restore of a hit whose outputs were edited or deleted, and each test then runs
/// the pipeline and checks that the run did what the plan said.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class PipelinePlannerTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    private TempDirectory Project => _pipeline.Project;

    private static PlannedStep Step(IReadOnlyList<PlannedStep>? plan, string name) => Assert.Single(plan!, p => p.Name == name);

    /// <summary>a -> b -> c, and d on its own; b reads a parameter G.</summary>
    private void DeclareChain(string g = "1")
    {
        _pipeline.Step("a", "printf a > a.txt", ("Outputs", "a.txt"));
        _pipeline.Step("b", "cat a.txt > b.txt && printf \"$PARAM_G\" >> b.txt", ("Inputs", "a.txt"), ("Parameters", $"G={g}"), ("Outputs", "b.txt"));
        _pipeline.Step("c", "cat b.txt > c.txt", ("Inputs", "b.txt"), ("Outputs", "c.txt"));
        _pipeline.Step("d", "printf d > d.txt", ("Outputs", "d.txt"));
    }

    [Fact]
    public async Task AHitWhoseOutputsWereEditedOrDeletedSaysWhatTheRestoreChangesAndTheRunDoesThat()
    {
        _pipeline.Step("data", "mkdir -p data/empty && printf 1 > data/a.csv && printf 2 > data/b.csv && printf 3 > data/c.csv", ("Outputs", "data/"));
        (await _pipeline.RunAsync()).AssertOutcome("data", StepOutcome.Executed);
        Project.Write("data/a.csv", "edited");
        File.Delete(Project.Combine("data/b.csv"));
        Directory.Delete(Project.Combine("data/empty"));
        Project.Write("data/extra.tmp", "x");

        var planned = Step(_pipeline.Plan(), "data");

        Assert.Equal(PlanStatus.Hit, planned.Status);
        Assert.Equal(["data/a.csv"], planned.Restore!.Edited);
        Assert.Equal(["data/b.csv", "data/empty/"], planned.Restore.Deleted);
        Assert.Equal(["data/extra.tmp"], planned.Restore.Extra);
        Assert.Equal("hit (would restore 1 edited, 2 deleted outputs: data/a.csv, data/b.csv, data/empty/; would remove 1 path its entry does not hold: data/extra.tmp)", planned.StatusText);
        Assert.False(Project.Exists("data/b.csv"), "The plan wrote an output.");

        var run = await _pipeline.RunAsync();
        run.AssertOutcome("data", StepOutcome.Cached);
        run.AssertMessage("Restored 2 output files of data from the cache.");
        run.AssertMessage("Removed 1 path from the outputs of data that its cached result does not hold.");
        var after = Step(_pipeline.Plan(), "data");
        Assert.Equal("hit", after.StatusText);
        Assert.True(after.Restore!.InPlace);
    }

    [Fact]
    public async Task AHitWhoseOutputsAreInPlaceNeedsNoObjectButOneThatMustCopyAMissingObjectIsAMiss()
    {
        _pipeline.Step("a", "printf a > a.txt", ("Outputs", "a.txt"));
        await _pipeline.RunAsync();
        foreach (var file in _pipeline.ObjectFiles())
        {
            File.Delete(file);
        }

        // Nothing to copy: the run restores nothing and so never misses the object.
        Assert.Equal("hit", Step(_pipeline.Plan(), "a").StatusText);
        (await _pipeline.RunAsync()).AssertOutcome("a", StepOutcome.Cached);

        File.Delete(Project.Combine("a.txt"));
        Assert.Equal("miss (cached result damaged)", Step(_pipeline.Plan(), "a").StatusText);
        var run = await _pipeline.RunAsync();
        run.AssertOutcome("a", StepOutcome.Executed);
        Assert.Equal("cached result damaged", run["a"].MissReason);
    }

    [Fact]
    public async Task AHitThatMustCopyAnAlteredObjectIsAMissAsTheRunsVerifiedCopyFindsIt()
    {
        // The same kind as a missing object: the run's restore verifies each object it copies, so the plan must too.
        _pipeline.Step("a", "printf a > a.txt", ("Outputs", "a.txt"));
        _pipeline.Step("b", "cat a.txt > b.txt", ("Inputs", "a.txt"), ("Outputs", "b.txt"));
        await _pipeline.RunAsync();
        string objectFile;
        using (var store = _pipeline.OpenStore())
        {
            objectFile = store.Objects.PathOf(Assert.Single(store.FindNewestEntry(_pipeline.PipelineName, "a")!.Manifest).Hash);
        }

        File.SetUnixFileMode(objectFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(objectFile, "z"); // Same size, other bytes.
        File.Delete(Project.Combine("a.txt"));

        var plan = _pipeline.Plan();
        Assert.Equal("miss (cached result damaged)", Step(plan, "a").StatusText);
        Assert.Equal("pending (waits for a)", Step(plan, "b").StatusText);
        var run = await _pipeline.RunAsync();
        run.AssertOutcome("a", StepOutcome.Executed);
        Assert.Equal("cached result damaged", run["a"].MissReason);
        Assert.Equal("a", Project.Read("a.txt"));
    }

    [Fact]
    public async Task AResumeIsPlannedAsTheRunDoesIt()
    {
        DeclareChain();
        await _pipeline.RunAsync();
        File.Delete(Project.Combine("a.txt"));
        Func<PipelineOptions, PipelineOptions> resume = o => o with { ResumeFrom = new ResumePoint("b", null) };

        var plan = _pipeline.Plan(resume)!;

        Assert.Equal(["a", "b", "c", "d"], plan.Select(p => p.Name));
        Assert.Equal("hit (restored, not executed: resuming from b; would restore 1 deleted output: a.txt)", Step(plan, "a").StatusText);
        Assert.Equal(ResumeRole.RestoreOnly, Step(plan, "a").Resume);
        Assert.Equal(("miss (resumed from b)", ResumeRole.Executes), (Step(plan, "b").StatusText, Step(plan, "b").Resume));
        // c waits for b, which executes, yet the resume executes it whatever b gives: the run's reason, not "pending".
        Assert.Equal(("miss (resumed from b)", ResumeRole.Executes), (Step(plan, "c").StatusText, Step(plan, "c").Resume));
        Assert.Equal(("hit", (ResumeRole?)null), (Step(plan, "d").StatusText, Step(plan, "d").Resume));

        var run = await _pipeline.RunAsync(resume);
        run.AssertOutcome("a", StepOutcome.Cached).AssertOutcome("b", StepOutcome.Executed).AssertOutcome("c", StepOutcome.Executed).AssertOutcome("d", StepOutcome.Cached);
        Assert.Equal(("resumed from b", "resumed from b"), (run["b"].MissReason, run["c"].MissReason));
        Assert.Equal(plan.Select(p => p.Key).Take(2), run.Result.Steps.Select(s => s.Key).Take(2));
    }

    [Fact]
    public async Task AResumeOfAnUnselectedStepPlansItAndItsUpstreamAsTheRunAddsThem()
    {
        DeclareChain();
        await _pipeline.RunAsync();

        var plan = _pipeline.Plan(o => o with { SelectedSteps = ["d"], ResumeFrom = new ResumePoint("b", null) })!;

        Assert.Equal(["a", "b", "d"], plan.Select(p => p.Name));
        var run = await _pipeline.RunAsync(o => o with { SelectedSteps = ["d"], ResumeFrom = new ResumePoint("b", null) });
        Assert.Equal(["a", "b", "d"], run.Result.Steps.Select(s => s.Name));
    }

    [Fact]
    public async Task AResumeFromARunWhoseUpstreamInputsChangedIsPlannedAsTheFailureTheRunGives()
    {
        DeclareChain();
        _pipeline.Step("a", "printf \"$PARAM_A\" > a.txt", ("Outputs", "a.txt"), ("Parameters", "A=1"));
        var first = await _pipeline.RunAsync();
        _pipeline.Step("a", "printf \"$PARAM_A\" > a.txt", ("Outputs", "a.txt"), ("Parameters", "A=2"));
        Func<PipelineOptions, PipelineOptions> resume = o => o with { ResumeFrom = new ResumePoint("b", first.Result.RunId) };

        var log = new RecordingLog();
        var plan = _pipeline.Plan(resume, log)!;

        Assert.Empty(log.Errors);
        Assert.Equal(PlanStatus.Miss, Step(plan, "a").Status);
        Assert.Equal($"cannot be restored for the resume: the inputs of step 'a' changed since run {first.Result.RunId} (parameter A changed (1 -> 2)); the run will fail with MLP2007", Step(plan, "a").Reason);
        Assert.True(Step(plan, "a").Fails);
        // The run fails at a, so b and c never start, though the resume would execute them.
        Assert.Equal("pending (waits for a)", Step(plan, "b").StatusText);
        Assert.Equal("pending (waits for b)", Step(plan, "c").StatusText);
        Assert.Equal("hit", Step(plan, "d").StatusText);

        var run = await _pipeline.RunAsync(resume);
        run.AssertOutcome("a", StepOutcome.Failed).AssertOutcome("b", StepOutcome.NotRun).AssertOutcome("c", StepOutcome.NotRun).AssertOutcome("d", StepOutcome.Cached);
        Assert.Contains($"changed since run {first.Result.RunId} (parameter A changed (1 -> 2))", run.SingleError(ErrorCodes.ResumeUnavailable).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("forced")]
    [InlineData("cache off")]
    public async Task AResumeFromARunWhoseResultALaterRunReplacedIsPlannedAndRunAsMLP2007(string how)
    {
        // F4: a step that is not reproducible executed again under the same key (PipelineForce, or its cache off)
        // replaced the entry; resuming from the first run restored the newer result as if it were that run's.
        _pipeline.Step("a", "cat /proc/sys/kernel/random/uuid > a.txt", ("Outputs", "a.txt"));
        _pipeline.Step("b", "cat a.txt > b.txt", ("Inputs", "a.txt"), ("Outputs", "b.txt"));
        var first = await _pipeline.RunAsync();
        var firstA = Project.Read("a.txt");
        var later = await _pipeline.RunAsync(how == "forced"
            ? o => o with { ForcedSteps = ["a"] }
            : null);
        if (how == "cache off")
        {
            _pipeline.Step("a", "cat /proc/sys/kernel/random/uuid > a.txt", ("Outputs", "a.txt"), ("EnableCache", "false"));
            later = await _pipeline.RunAsync();
            _pipeline.Step("a", "cat /proc/sys/kernel/random/uuid > a.txt", ("Outputs", "a.txt"));
        }

        later.AssertOutcome("a", StepOutcome.Executed);
        Assert.NotEqual(firstA, Project.Read("a.txt"));
        Assert.Equal(first["a"].Key, later["a"].Key);
        Func<PipelineOptions, PipelineOptions> resume = o => o with { ResumeFrom = new ResumePoint("b", first.Result.RunId) };

        var plan = _pipeline.Plan(resume)!;

        Assert.True(Step(plan, "a").Fails);
        Assert.Equal($"cannot be restored for the resume: the result run {first.Result.RunId} recorded for step 'a' is gone (replaced by a later run); the run will fail with MLP2007", Step(plan, "a").Reason);
        var run = await _pipeline.RunAsync(resume);
        run.AssertOutcome("a", StepOutcome.Failed).AssertOutcome("b", StepOutcome.NotRun);
        Assert.Contains($"the result run {first.Result.RunId} recorded for step 'a' is gone (replaced by a later run)", run.SingleError(ErrorCodes.ResumeUnavailable).Message, StringComparison.Ordinal);
        // The later run's own result is still what resuming from it restores.
        var fromLater = await _pipeline.RunAsync(o => o with { ResumeFrom = new ResumePoint("b", later.Result.RunId) });
        fromLater.AssertOutcome("a", StepOutcome.Cached).AssertOutcome("b", StepOutcome.Executed).AssertNoDiagnostics();
    }

    [Fact]
    public async Task AResumeFromARunThatRestoredAStepRestoresTheEntryItRestored()
    {
        // The run's result of a step it restored is an entry an earlier run created: still that run's result.
        DeclareChain();
        await _pipeline.RunAsync();
        var second = await _pipeline.RunAsync();
        second.AssertOutcome("a", StepOutcome.Cached);
        Func<PipelineOptions, PipelineOptions> resume = o => o with { ResumeFrom = new ResumePoint("b", second.Result.RunId) };

        Assert.Equal(PlanStatus.Hit, Step(_pipeline.Plan(resume), "a").Status);
        (await _pipeline.RunAsync(resume)).AssertOutcome("a", StepOutcome.Cached).AssertOutcome("b", StepOutcome.Executed).AssertNoDiagnostics();
    }

    [Theory]
    [InlineData("data/*.txt", "data/z.txt")]
    [InlineData("data/", "data/z.txt")]
    [InlineData("data/", "data/extra/z.txt")]
    [InlineData("data/**/*.txt", "data/extra/z.txt")]
    public async Task AnInputOverAnUpstreamHitsOutputsIsKeyedAsTheRestoreLeavesThem(string input, string extra)
    {
        // F3: the plan keyed the downstream step with the extra file the upstream restore removes, and said miss
        // where the run, after the restore, hits.
        _pipeline.Step("prep", "mkdir -p data && echo 1 > data/x.txt && echo 2 > data/y.txt", ("Outputs", "data/"));
        _pipeline.Step("glob", "find data -type f | sort | xargs cat > all.txt", ("Inputs", input), ("Outputs", "all.txt"));
        await _pipeline.RunAsync();
        Project.Write(extra, "new");
        Project.Write("data/x.txt", "edited");

        var plan = _pipeline.Plan()!;

        Assert.Equal(PlanStatus.Hit, Step(plan, "prep").Status);
        Assert.Contains(extra.StartsWith("data/extra/", StringComparison.Ordinal) ? "data/extra/" : extra, Step(plan, "prep").Restore!.Extra);
        Assert.Equal("hit", Step(plan, "glob").StatusText);
        var run = await _pipeline.RunAsync();
        run.AssertOutcome("prep", StepOutcome.Cached).AssertOutcome("glob", StepOutcome.Cached).AssertNoDiagnostics();
        Assert.False(Project.Exists(extra));
    }

    [Fact]
    public async Task AnInputFileTheUpstreamRestoreRemovesIsPlannedAsTheRunsMissingInput()
    {
        // The run restores prep first, which removes data/z.txt: use's key then fails (MLP2005), and so must the plan.
        _pipeline.Step("prep", "mkdir -p data && echo 1 > data/x.txt", ("Outputs", "data/"));
        await _pipeline.RunAsync();
        Project.Write("data/z.txt", "new");
        _pipeline.Step("use", "cat data/z.txt > z.txt", ("Inputs", "data/z.txt"), ("DependsOn", "prep"), ("Outputs", "z.txt"));

        var plan = _pipeline.Plan()!;

        Assert.True(Step(plan, "use").Fails, Step(plan, "use").StatusText);
        var run = await _pipeline.RunAsync();
        run.AssertOutcome("prep", StepOutcome.Cached).AssertOutcome("use", StepOutcome.Failed);
        Assert.Equal(ErrorCodes.InputMissing, Assert.Single(run.Log.Errors).Code);
    }

    [Theory]
    [InlineData("resume", false)]
    [InlineData("resume", true)]
    [InlineData("missing input", false)]
    [InlineData("missing input", true)]
    public async Task WithFailFastThePlanShowsPendingWhatTheRunDoesNotStartAfterAPredictedFailure(string failure, bool continueOnError)
    {
        // F5: the plan said `hit` for steps that fail fast never starts once the predicted failure happens.
        _pipeline.Step("slow", "printf s > slow.txt", ("Outputs", "slow.txt"));
        _pipeline.Step("pre", "printf p > pre.txt", ("Outputs", "pre.txt"));
        _pipeline.Step("bad", "test -f ok.flag && cat pre.txt > bad.txt", ("Inputs", failure == "resume" ? "pre.txt" : "pre.txt;missing.txt"), ("Outputs", "bad.txt"));
        _pipeline.Step("after", "cat slow.txt > after.txt", ("Inputs", "slow.txt"), ("Outputs", "after.txt"));
        _pipeline.Step("indep", "printf i > indep.txt", ("Outputs", "indep.txt"));
        _pipeline.Step("down", "cat bad.txt > down.txt", ("Inputs", "bad.txt"), ("Outputs", "down.txt"));
        var first = await _pipeline.RunAsync(o => o with { ContinueOnError = true });
        first.AssertOutcome("bad", StepOutcome.Failed).AssertOutcome("indep", StepOutcome.Executed);
        // One step at a time: the run's order is then fixed (slow, pre, bad, ...), so whether a step starts is too.
        Func<PipelineOptions, PipelineOptions> options = o => o with
        {
            MaxParallelism = 1,
            ContinueOnError = continueOnError,
            ResumeFrom = failure == "resume" ? new ResumePoint("down", first.Result.RunId) : null,
        };

        var plan = _pipeline.Plan(options)!;

        Assert.True(Step(plan, "bad").Fails);
        Assert.Equal(PlanStatus.Hit, Step(plan, "slow").Status); // the first step the run starts
        Assert.Equal(PlanStatus.Hit, Step(plan, "pre").Status); // upstream of bad: done before bad can fail
        Assert.Equal("pending (waits for bad)", Step(plan, "down").StatusText);
        var run = await _pipeline.RunAsync(options);
        run.AssertOutcome("slow", StepOutcome.Cached).AssertOutcome("pre", StepOutcome.Cached).AssertOutcome("bad", StepOutcome.Failed).AssertOutcome("down", StepOutcome.NotRun);
        foreach (var name in new[] { "after", "indep" })
        {
            if (continueOnError)
            {
                Assert.Equal(PlanStatus.Hit, Step(plan, name).Status);
                run.AssertOutcome(name, StepOutcome.Cached);
            }
            else
            {
                Assert.Equal("pending (the run stops after bad fails; PipelineContinueOnError=true runs it)", Step(plan, name).StatusText);
                run.AssertOutcome(name, StepOutcome.NotRun);
            }
        }
    }

    [Fact]
    public async Task AResumeRestoresAStepWhoseCacheIsOffAsTheRunDoes()
    {
        DeclareChain();
        _pipeline.Step("a", "printf a > a.txt", ("Outputs", "a.txt"), ("EnableCache", "false"));
        await _pipeline.RunAsync();
        Func<PipelineOptions, PipelineOptions> resume = o => o with { ResumeFrom = new ResumePoint("b", null) };

        Assert.Equal(PlanStatus.Hit, Step(_pipeline.Plan(resume), "a").Status);
        Assert.Equal("miss (cache disabled)", Step(_pipeline.Plan(), "a").StatusText);
        (await _pipeline.RunAsync(resume)).AssertOutcome("a", StepOutcome.Cached);
    }

    [Fact]
    public void AResumeFromARunTheStoreDoesNotKnowIsTheRunsError()
    {
        DeclareChain();
        var log = new RecordingLog();

        var plan = _pipeline.Plan(o => o with { ResumeFrom = new ResumePoint("b", "20260101-000000-abcdef") }, log);

        Assert.Null(plan);
        Assert.Equal(ErrorCodes.UnknownRun, Assert.Single(log.Errors).Code);
    }

    [Fact]
    public async Task AFailingKeyCommandIsPlannedAsAFailureThatSaysWhy()
    {
        _pipeline.Step("fetch", "echo f > f.txt", ("Outputs", "f.txt"), ("CacheKeyCommand", "echo 'no ETag: 403' >&2; exit 6"));

        var planned = Step(_pipeline.Plan(), "fetch");

        Assert.True(planned.Fails);
        Assert.Equal("CacheKeyCommand exited with code 6. Its standard error ended with: no ETag: 403 (the run will fail)", planned.Reason);
        (await _pipeline.RunAsync()).AssertOutcome("fetch", StepOutcome.Failed);
    }
}
