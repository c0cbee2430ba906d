using MLPipelines.Engine;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Hashing;
using MLPipelines.Tasks.Tests.TestKit;
using System.Runtime.Versioning;
using Microsoft.Data.Sqlite;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>Whole runs through the real runner, store and /bin/sh: what a user of <c>RunPipeline</c> sees.</summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class PipelineRunnerTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    private TempDirectory Project => _pipeline.Project;

    /// <summary>How many times a step's command really ran: each run appends a line to runs/&lt;step&gt;.</summary>
    private int Executions(string step) => Project.Exists($"runs/{step}") ? File.ReadAllLines(Project.Combine($"runs/{step}")).Length : 0;

    private static string Counted(string step, string command) => $"mkdir -p runs && echo x >> runs/{step} && {command}";

    [Fact]
    public async Task TheFirstRunExecutesAndTheSecondRestores()
    {
        _pipeline.Step("hello", Counted("hello", "printf hello > out.txt"), ("Outputs", "out.txt"));

        var first = await _pipeline.RunAsync();
        var second = await _pipeline.RunAsync();

        first.AssertOutcome("hello", StepOutcome.Executed).AssertNoDiagnostics();
        first.AssertMessage("Step hello has started.");
        first.AssertMessage("Cache miss for hello: no earlier result.");
        Assert.Matches(@"^Step hello has finished in \d+\.\d{3}s\.$", first.Message("Step hello has finished"));
        Assert.Equal("no earlier result", first["hello"].MissReason);

        second.AssertOutcome("hello", StepOutcome.Cached).AssertNoDiagnostics();
        second.AssertMessage("Using cached version of hello.");
        Assert.DoesNotContain(second.Log.Messages, m => m.StartsWith("Restored", StringComparison.Ordinal));
        Assert.Equal(first["hello"].Key, second["hello"].Key);
        Assert.Equal(1, Executions("hello"));
        Assert.Equal("hello", Project.Read("out.txt"));
    }

    [Fact]
    public async Task ADeletedOutputIsRestoredWithIdenticalBytesAndMode()
    {
        _pipeline.Step("train",
            Counted("train", @"mkdir -p model/sub && printf '\000\001\377binary\r\n' > model/weights.bin && printf '#!/bin/sh\necho hi\n' > model/sub/run.sh && chmod 750 model/sub/run.sh && mkdir -p model/empty"),
            ("Outputs", "model/"));
        (await _pipeline.RunAsync()).AssertOutcome("train", StepOutcome.Executed);
        var weights = File.ReadAllBytes(Project.Combine("model/weights.bin"));
        var script = File.ReadAllBytes(Project.Combine("model/sub/run.sh"));
        var mode = File.GetUnixFileMode(Project.Combine("model/sub/run.sh"));

        Directory.Delete(Project.Combine("model"), recursive: true);
        var second = await _pipeline.RunAsync();

        second.AssertOutcome("train", StepOutcome.Cached).AssertNoDiagnostics();
        second.AssertMessage("Restored 2 output files of train from the cache.");
        Assert.Equal(1, Executions("train"));
        Assert.Equal(weights, File.ReadAllBytes(Project.Combine("model/weights.bin")));
        Assert.Equal(script, File.ReadAllBytes(Project.Combine("model/sub/run.sh")));
        Assert.Equal(mode, File.GetUnixFileMode(Project.Combine("model/sub/run.sh")));
        Assert.Equal(["model/sub/run.sh", "model/weights.bin"], Directory.EnumerateFiles(Project.Combine("model"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Project.Path, f).Replace('\\', '/')).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AnOutputChangedByHandIsPutBack()
    {
        _pipeline.Step("hello", Counted("hello", "printf hello > out.txt"), ("Outputs", "out.txt"));
        await _pipeline.RunAsync();

        Project.Write("out.txt", "edited by hand");
        var second = await _pipeline.RunAsync();

        second.AssertOutcome("hello", StepOutcome.Cached);
        second.AssertMessage("Restored 1 output file of hello from the cache.");
        Assert.Equal("hello", Project.Read("out.txt"));
        Assert.Equal(1, Executions("hello"));
    }

    [Theory]
    [InlineData("altered")]
    [InlineData("missing")]
    public async Task ADamagedObjectMakesTheStepExecuteAgainWithAWarning(string damage)
    {
        _pipeline.Step("hello", Counted("hello", "printf 'hello world' > out.txt"), ("Outputs", "out.txt"));
        await _pipeline.RunAsync();
        var obj = Assert.Single(_pipeline.ObjectFiles());
        File.Delete(Project.Combine("out.txt"));
        if (damage == "altered")
        {
            File.WriteAllText(obj, "hello wörld");
        }
        else
        {
            File.Delete(obj);
        }

        var second = await _pipeline.RunAsync();

        second.AssertOutcome("hello", StepOutcome.Executed);
        var warning = second.SingleWarning(ErrorCodes.DamagedEntry);
        Assert.Equal("hello", warning.Step);
        Assert.Contains("out.txt", warning.Message, StringComparison.Ordinal);
        Assert.Empty(second.Log.Errors);
        Assert.Equal("cached result damaged", second["hello"].MissReason);
        Assert.Equal("hello world", Project.Read("out.txt"));
        Assert.Equal(2, Executions("hello"));

        // The entry and its object were replaced: the next restore is whole again.
        File.Delete(Project.Combine("out.txt"));
        var third = await _pipeline.RunAsync();
        third.AssertOutcome("hello", StepOutcome.Cached).AssertNoDiagnostics();
        Assert.Equal("hello world", Project.Read("out.txt"));
        Assert.Equal(2, Executions("hello"));
    }

    [Fact]
    public async Task WithContinueOnErrorAFailingStepIsMLP2001AndOnlyItsDownstreamIsNotRun()
    {
        _pipeline
            .Step("bad", "printf partial > bad.txt; exit 3", ("Outputs", "bad.txt"))
            .Step("downstream", Counted("downstream", "true"), ("DependsOn", "bad"))
            .Step("further", Counted("further", "true"), ("DependsOn", "downstream"))
            .Step("independent", Counted("independent", "printf ok > ok.txt"), ("Outputs", "ok.txt"));

        var run = await _pipeline.RunAsync(o => o with { ContinueOnError = true });

        Assert.False(run.Result.Succeeded);
        run.AssertOutcome("bad", StepOutcome.Failed)
            .AssertOutcome("downstream", StepOutcome.NotRun)
            .AssertOutcome("further", StepOutcome.NotRun)
            .AssertOutcome("independent", StepOutcome.Executed);
        var error = run.SingleError(ErrorCodes.StepFailed);
        Assert.Equal("bad", error.Step);
        Assert.Contains("'bad'", error.Message, StringComparison.Ordinal);
        Assert.Contains("exit code 3", error.Message, StringComparison.Ordinal);
        Assert.Equal("exit code 3", run["bad"].MissReason);
        run.AssertMessage("Step downstream was not run: needs bad, which failed.");
        run.AssertMessage("Step further was not run: needs downstream, which did not run.");
        run.AssertMessage("not run: downstream (needs bad, which failed)");
        run.AssertMessage("not run: further (needs downstream, which did not run)");
        Assert.Equal(0, Executions("downstream"));
        Assert.Matches(@"^Pipeline p: 4 steps, 0 cached, 1 executed, 1 failed, 2 not run, hit rate 0%, \d+\.\ds\.$", run.Message("Pipeline p:"));
        using (var store = _pipeline.OpenStore())
        {
            Assert.Equal(["independent"], store.AllEntries().Select(e => e.Step));
        }

        // After a fix, what succeeded is reused and the rest runs.
        _pipeline.Step("bad", "printf fixed > bad.txt", ("Outputs", "bad.txt"));
        var fixedRun = await _pipeline.RunAsync();

        fixedRun.AssertOutcome("independent", StepOutcome.Cached)
            .AssertOutcome("bad", StepOutcome.Executed)
            .AssertOutcome("downstream", StepOutcome.Executed)
            .AssertOutcome("further", StepOutcome.Executed)
            .AssertNoDiagnostics();
        Assert.Equal(1, Executions("independent"));
    }

    [Fact]
    public async Task AMissingDeclaredOutputIsMLP2002AndNotCached()
    {
        _pipeline.Step("lazy", Counted("lazy", "printf a > a.txt"), ("Outputs", "a.txt;b.txt;dir/"));

        var first = await _pipeline.RunAsync();
        var second = await _pipeline.RunAsync();

        first.AssertOutcome("lazy", StepOutcome.Failed);
        var error = first.SingleError(ErrorCodes.OutputMissing);
        Assert.Equal("lazy", error.Step);
        Assert.Contains("'b.txt', 'dir/'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'a.txt'", error.Message, StringComparison.Ordinal);
        second.AssertOutcome("lazy", StepOutcome.Failed);
        Assert.Equal(2, Executions("lazy"));
        using var store = _pipeline.OpenStore();
        Assert.Empty(store.AllEntries());
    }

    [Fact]
    public async Task EnableCacheFalseAlwaysExecutesButStillRecords()
    {
        _pipeline.Step("notify", Counted("notify", "printf sent > sent.txt"), ("Outputs", "sent.txt"), ("EnableCache", "false"));

        var first = await _pipeline.RunAsync();
        var second = await _pipeline.RunAsync();

        first.AssertOutcome("notify", StepOutcome.Executed);
        second.AssertOutcome("notify", StepOutcome.Executed);
        second.AssertMessage("Cache miss for notify: cache disabled.");
        Assert.Equal(2, Executions("notify"));

        // The recorded result is there for a later cache-enabled run.
        _pipeline.Step("notify", Counted("notify", "printf sent > sent.txt"), ("Outputs", "sent.txt"));
        (await _pipeline.RunAsync()).AssertOutcome("notify", StepOutcome.Cached);
        Assert.Equal(2, Executions("notify"));
    }

    [Fact]
    public async Task ThePipelineDefaultDisablesCachingUnlessTheStepSaysOtherwise()
    {
        _pipeline
            .Step("a", Counted("a", "true"))
            .Step("b", Counted("b", "true"), ("EnableCache", "true"));
        await _pipeline.RunAsync();

        var second = await _pipeline.RunAsync(o => o with { CacheEnabledByDefault = false });

        second.AssertOutcome("a", StepOutcome.Executed).AssertOutcome("b", StepOutcome.Cached);
    }

    [Fact]
    public async Task CacheOverrideFalseExecutesEveryStep()
    {
        _pipeline
            .Step("a", Counted("a", "printf a > a.txt"), ("Outputs", "a.txt"))
            .Step("b", Counted("b", "cat a.txt > b.txt"), ("Inputs", "a.txt"), ("Outputs", "b.txt"), ("EnableCache", "true"));
        await _pipeline.RunAsync();

        var second = await _pipeline.RunAsync(o => o with { CacheOverride = false });

        second.AssertOutcome("a", StepOutcome.Executed).AssertOutcome("b", StepOutcome.Executed);
        Assert.All(second.Result.Steps, s => Assert.Equal("cache disabled", s.MissReason));
        Assert.Equal(2, Executions("a"));
        Assert.Equal(2, Executions("b"));
    }

    [Fact]
    public async Task CacheOverrideTrueRestoresEvenAStepThatDisablesItsCache()
    {
        _pipeline.Step("a", Counted("a", "printf a > a.txt"), ("Outputs", "a.txt"), ("EnableCache", "false"));
        await _pipeline.RunAsync();

        var second = await _pipeline.RunAsync(o => o with { CacheOverride = true });

        second.AssertOutcome("a", StepOutcome.Cached);
        Assert.Equal(1, Executions("a"));
    }

    [Fact]
    public async Task AForcedStepExecutesOnAHitAndReplacesItsEntry()
    {
        _pipeline
            .Step("load", Counted("load", "printf data > data.txt"), ("Outputs", "data.txt"))
            .Step("train", Counted("train", "wc -l < runs/train | tr -d ' ' > model.txt"), ("Inputs", "data.txt"), ("Outputs", "model.txt"));
        var first = await _pipeline.RunAsync();

        var forced = await _pipeline.RunAsync(o => o with { ForcedSteps = ["TRAIN"] });

        forced.AssertOutcome("load", StepOutcome.Cached).AssertOutcome("train", StepOutcome.Executed);
        forced.AssertMessage("Cache miss for train: forced.");
        Assert.Equal(first["train"].Key, forced["train"].Key);
        Assert.Equal("2\n", Project.Read("model.txt"));
        using (var store = _pipeline.OpenStore())
        {
            Assert.Equal(2, store.AllEntries().Count);
        }

        // The forced result replaced the first one: a restore now brings back the second execution's output.
        File.Delete(Project.Combine("model.txt"));
        (await _pipeline.RunAsync()).AssertOutcome("train", StepOutcome.Cached);
        Assert.Equal("2\n", Project.Read("model.txt"));

        var all = await _pipeline.RunAsync(o => o with { ForcedSteps = ["*"] });
        all.AssertOutcome("load", StepOutcome.Executed).AssertOutcome("train", StepOutcome.Executed);
    }

    [Fact]
    public async Task ParametersReachTheCommandAsParamVariablesWithTheStepEnvironment()
    {
        _pipeline.Step("train", "echo \"gamma=$PARAM_Gamma seed=$PARAM_Seed mode=$MODE\"",
            ("Parameters", "Gamma=0.002;Seed=42"), ("Environment", "MODE=fast"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("train", StepOutcome.Executed);
        Assert.Equal(["gamma=0.002 seed=42 mode=fast"], run.Log.LinesOf("train"));
    }

    [Fact]
    public async Task StepOutputLinesArriveInOrderPrefixedByTheStep()
    {
        _pipeline
            .Step("count", "i=1; while [ $i -le 300 ]; do echo line$i; i=$((i+1)); done")
            .Step("warn", "echo to-stderr >&2");

        var run = await _pipeline.RunAsync();

        Assert.Equal(Enumerable.Range(1, 300).Select(i => $"line{i}"), run.Log.LinesOf("count"));
        Assert.Equal(["to-stderr"], run.Log.LinesOf("warn"));
    }

    [Fact]
    public async Task TheSummaryCountsCachedAndExecutedStepsAndTheMissNamesTheChange()
    {
        _pipeline
            .Step("load", Counted("load", "printf '1,2,3' > data.csv"), ("Outputs", "data.csv"))
            .Step("train", "printf \"model for $PARAM_Gamma\" > model.txt", ("Inputs", "data.csv"), ("Parameters", "Gamma=0.002"), ("Outputs", "model.txt"))
            .Step("evaluate", "cat model.txt > report.txt", ("Inputs", "model.txt"), ("Outputs", "report.txt"));
        var first = await _pipeline.RunAsync();
        Assert.Matches(@"^Pipeline p: 3 steps, 0 cached, 3 executed, hit rate 0%, \d+\.\ds\.$", first.Message("Pipeline p:"));

        _pipeline.Step("train", "printf \"model for $PARAM_Gamma\" > model.txt", ("Inputs", "data.csv"), ("Parameters", "Gamma=0.0001"), ("Outputs", "model.txt"));
        var second = await _pipeline.RunAsync();

        second.AssertOutcome("load", StepOutcome.Cached)
            .AssertOutcome("train", StepOutcome.Executed)
            .AssertOutcome("evaluate", StepOutcome.Executed);
        second.AssertMessage("Cache miss for train: parameter Gamma changed (0.002 -> 0.0001).");
        second.AssertMessage("Cache miss for evaluate: input model.txt changed.");
        Assert.Matches(@"^Pipeline p: 3 steps, 1 cached, 2 executed, hit rate 33%, \d+\.\ds\.$", second.Message("Pipeline p:"));
        Assert.Equal("model for 0.0001", Project.Read("report.txt"));
    }

    [Fact]
    public async Task AnEntryOlderThanExpiresAfterIsNotReused()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero));
        _pipeline.Step("fetch", Counted("fetch", "printf data > data.txt"), ("Outputs", "data.txt"), ("ExpiresAfter", "3600"));
        await _pipeline.RunAsync(clock: clock);

        clock.Advance(TimeSpan.FromMinutes(59));
        var fresh = await _pipeline.RunAsync(clock: clock);
        clock.Advance(TimeSpan.FromMinutes(62));
        var expired = await _pipeline.RunAsync(clock: clock);

        fresh.AssertOutcome("fetch", StepOutcome.Cached);
        expired.AssertOutcome("fetch", StepOutcome.Executed);
        Assert.StartsWith("expired", expired["fetch"].MissReason, StringComparison.Ordinal);
        expired.AssertMessage("Cache miss for fetch: expired 1h ago.");
        Assert.Equal(2, Executions("fetch"));

        // The new result starts a new lifetime.
        clock.Advance(TimeSpan.FromMinutes(30));
        (await _pipeline.RunAsync(clock: clock)).AssertOutcome("fetch", StepOutcome.Cached);
    }

    [Fact]
    public async Task HitsAreMarkedUsedAtTheRunsTimeBeforeTheCacheLimitsApply()
    {
        var clock = new ManualTimeProvider(new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero));
        _pipeline
            .Step("a", "printf a > a.txt", ("Outputs", "a.txt"))
            .Step("b", "cat a.txt > b.txt", ("Inputs", "a.txt"), ("Outputs", "b.txt"));
        var week = TimeSpan.FromDays(7);
        await _pipeline.RunAsync(o => o with { CacheMaxAge = week }, clock);

        // Older than the age limit by now: only the hits' marks (all in one transaction at the run's end, issue 9) keep
        // the entries from the limits this same run applies.
        clock.Advance(TimeSpan.FromDays(10));
        var noOp = await _pipeline.RunAsync(o => o with { CacheMaxAge = week }, clock);

        noOp.AssertOutcome("a", StepOutcome.Cached);
        noOp.AssertOutcome("b", StepOutcome.Cached);
        using var store = _pipeline.OpenStore();
        Assert.Equal([clock.GetUtcNow(), clock.GetUtcNow()], store.AllEntries().Select(e => e.LastUsedAt));
    }

    [Fact]
    public async Task AMissingInputIsMLP2005AndBlocksDownstream()
    {
        _pipeline
            .Step("train", "true", ("Inputs", "data/absent.csv"))
            .Step("report", Counted("report", "true"), ("DependsOn", "train"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("train", StepOutcome.Failed).AssertOutcome("report", StepOutcome.NotRun);
        var error = run.SingleError(ErrorCodes.InputMissing);
        Assert.Equal("train", error.Step);
        Assert.Contains("'data/absent.csv'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingInputDirectoryIsMLP2005AndTheStepDoesNotRun()
    {
        _pipeline.Step("train", Counted("train", "true"), ("Inputs", "raw/"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("train", StepOutcome.Failed);
        Assert.Equal("Input 'raw/' of step 'train' does not exist. Create it, produce it in an upstream step, or remove it from the step.",
            run.SingleError(ErrorCodes.InputMissing).Message);
        Assert.Equal(0, Executions("train"));
    }

    [Fact]
    public async Task ADanglingSymbolicLinkAmongTheInputsIsMLP2005NamingTheLink()
    {
        Project.Write("data/real.csv", "x");
        File.CreateSymbolicLink(Project.Combine("data/link.csv"), "moved.csv");
        _pipeline.Step("train", Counted("train", "true"), ("Inputs", "data/"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("train", StepOutcome.Failed);
        var error = run.SingleError(ErrorCodes.InputMissing);
        Assert.Equal(("train", "Input 'data/link.csv' of step 'train' is a symbolic link to 'moved.csv', which does not exist. Create it, produce it in an upstream step, or remove it from the step."),
            (error.Step, error.Message));
        Assert.DoesNotContain(run.Log.Errors, e => e.Code == ErrorCodes.UnexpectedFailure);
        Assert.Equal(0, Executions("train"));
    }

    [Fact]
    public async Task AnInputGlobThatMatchesNothingIsMLP2010AndTheStepRuns()
    {
        Project.Write("data/a.csv", "a");
        _pipeline.Step("train", Counted("train", "printf t > model.txt"), ("Inputs", "data/*.csv;data/*.parquet"), ("Outputs", "model.txt"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("train", StepOutcome.Executed);
        var warning = run.SingleWarning(ErrorCodes.InputGlobMatchesNothing);
        Assert.Equal("train", warning.Step);
        Assert.Contains("'data/*.parquet'", warning.Message, StringComparison.Ordinal);
        Assert.Empty(run.Log.Errors);
        Assert.Equal(1, Executions("train"));
    }

    [Fact]
    public async Task AnInferredDependencyRunsTheProducerFirst()
    {
        _pipeline
            .Step("consume", "cat data/raw.txt > copy.txt", ("Inputs", "data/raw.txt"), ("Outputs", "copy.txt"))
            .Step("produce", "mkdir -p data && printf produced > data/raw.txt", ("Outputs", "data/"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("produce", StepOutcome.Executed).AssertOutcome("consume", StepOutcome.Executed).AssertNoDiagnostics();
        Assert.Equal(["produce", "consume"], run.Result.Steps.Select(s => s.Name));
        Assert.Equal("produced", Project.Read("copy.txt"));
    }

    [Fact]
    public async Task ADependsOnStepsNewOutputsReRunTheStepAndItsOldOutputsHitAgain()
    {
        void Declare(string gamma) => _pipeline
            .Step("train", Counted("train", "printf \"model $PARAM_Gamma\" > model.bin"), ("Parameters", $"Gamma={gamma}"), ("Outputs", "model.bin"))
            .Step("publish", Counted("publish", "cp model.bin published.bin"), ("DependsOn", "train"), ("Outputs", "published.bin"));
        Declare("1");
        await _pipeline.RunAsync();

        Declare("2");
        var changed = await _pipeline.RunAsync();
        var published = Project.Read("published.bin");
        Declare("1");
        var back = await _pipeline.RunAsync();

        changed.AssertOutcome("train", StepOutcome.Executed).AssertOutcome("publish", StepOutcome.Executed).AssertNoDiagnostics();
        changed.AssertMessage("Cache miss for publish: outputs of upstream step train changed.");
        Assert.Equal("model 2", published);
        back.AssertOutcome("train", StepOutcome.Cached).AssertOutcome("publish", StepOutcome.Cached).AssertNoDiagnostics();
        Assert.Equal("model 1", Project.Read("published.bin"));
        Assert.Equal((2, 2), (Executions("train"), Executions("publish")));
    }

    [Theory]
    [InlineData("EnableCache", "false")]
    [InlineData("Parameters", "Verbose=1")]
    public async Task AnUpstreamStepThatRanAgainWithTheSameOutputsLeavesItsDependentsCached(string metadata, string value)
    {
        _pipeline
            .Step("train", Counted("train", "mkdir -p model && printf weights > model/w.bin"), ("Outputs", "model/"))
            .Step("publish", Counted("publish", "cp model/w.bin published.bin"), ("DependsOn", "train"), ("Outputs", "published.bin"));
        await _pipeline.RunAsync();

        _pipeline.Step("train", Counted("train", "mkdir -p model && printf weights > model/w.bin"), ("Outputs", "model/"), (metadata, value));
        var second = await _pipeline.RunAsync();

        second.AssertOutcome("train", StepOutcome.Executed).AssertOutcome("publish", StepOutcome.Cached).AssertNoDiagnostics();
        Assert.Equal((2, 1), (Executions("train"), Executions("publish")));
        Assert.Equal(second["publish"].Key, (await _pipeline.RunAsync())["publish"].Key);
    }

    [Fact]
    public async Task AStepThatReadsAnUpstreamOutputAsAFileDependencyRunsAfterItAndReadsTheNewFile()
    {
        _pipeline
            .Step("train", Counted("train", "cat cfg.json > model.txt"), ("FileDependencies", "cfg.json"), ("Outputs", "model.txt"))
            .Step("gen", "sleep 0.3 && printf \"gamma $PARAM_Gamma\" > cfg.json", ("Parameters", "Gamma=1"), ("Outputs", "cfg.json"));
        Project.Write("cfg.json", "stale");

        var first = await _pipeline.RunAsync();
        var firstModel = Project.Read("model.txt");
        _pipeline.Step("gen", "sleep 0.3 && printf \"gamma $PARAM_Gamma\" > cfg.json", ("Parameters", "Gamma=2"), ("Outputs", "cfg.json"));
        var second = await _pipeline.RunAsync();

        // Declared after train, gen still runs first: only the inferred edge can order them.
        Assert.Equal(["gen", "train"], first.Result.Steps.Select(s => s.Name));
        first.AssertOutcome("train", StepOutcome.Executed).AssertNoDiagnostics();
        Assert.Equal("gamma 1", firstModel);
        second.AssertOutcome("train", StepOutcome.Executed);
        second.AssertMessage("Cache miss for train: file dependency cfg.json changed.");
        Assert.Equal("gamma 2", Project.Read("model.txt"));
    }

    [Fact]
    public async Task TheCommandRunsInItsWorkingDirectory()
    {
        _pipeline.Step("build", "printf here > here.txt", ("WorkingDirectory", "tools/out"), ("Outputs", "tools/out/here.txt"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("build", StepOutcome.Executed).AssertNoDiagnostics();
        Assert.Equal("here", Project.Read("tools/out/here.txt"));
    }

    [Fact]
    public async Task SelectedStepsRunWithTheirUpstreamOnly()
    {
        _pipeline
            .Step("load", "printf d > d.txt", ("Outputs", "d.txt"))
            .Step("train", "cat d.txt > m.txt", ("Inputs", "d.txt"), ("Outputs", "m.txt"))
            .Step("lint", Counted("lint", "true"));

        var run = await _pipeline.RunAsync(o => o with { SelectedSteps = ["train"] });

        Assert.Equal(["load", "train"], run.Result.Steps.Select(s => s.Name));
        Assert.Equal(0, Executions("lint"));
    }

    [Fact]
    public async Task UnchangedInputsAreNotReadAgainInTheNextRun()
    {
        Project.Write("data/big.csv", "1,2,3");
        File.SetLastWriteTimeUtc(Project.Combine("data/big.csv"), DateTime.UtcNow.AddHours(-1));
        // Setting the time changed the file now: only a stamp taken past the racy window is kept for the next run.
        Thread.Sleep(FileStamp.RacyWindow + TimeSpan.FromMilliseconds(100));
        _pipeline.Step("stats", "true", ("Inputs", "data/"));

        var first = await _pipeline.RunAsync();
        var second = await _pipeline.RunAsync();

        Assert.Equal(1, first.FilesHashed);
        second.AssertOutcome("stats", StepOutcome.Cached);
        Assert.Equal(0, second.FilesHashed);
    }

    [Fact]
    public async Task OnlyMaxParallelismStepsRunAtOnceAndAllFinish()
    {
        for (var i = 0; i < 5; i++)
        {
            _pipeline.Step($"s{i}", $"mkdir -p lock && mkdir lock/held && rmdir lock/held && printf {i} > out{i}.txt", ("Outputs", $"out{i}.txt"));
        }

        var run = await _pipeline.RunAsync(o => o with { MaxParallelism = 1 });

        Assert.True(run.Result.Succeeded, run.Log.ToString());
        Assert.Equal(5, run.Result.Count(StepOutcome.Executed));
    }

    [Fact]
    public async Task ChangedInputsDeclaredTwiceAreExplainedNotCrashed()
    {
        Project.Write("data/train.csv", "1,2");
        _pipeline.Step("train", Counted("train", "true"), ("Inputs", "data/;data/train.csv"));
        await _pipeline.RunAsync();

        Project.Write("data/train.csv", "1,2,3");
        var second = await _pipeline.RunAsync();

        second.AssertOutcome("train", StepOutcome.Executed);
        second.AssertMessage("Cache miss for train: input data/train.csv changed.");
    }

    [Fact]
    public async Task CancellingStopsTheRunningCommandAndCachesNothing()
    {
        using var cancel = new CancellationTokenSource();
        var log = new RecordingLog { OnStepOutput = (_, line) => { if (line == "started") { cancel.Cancel(); } } };
        _pipeline
            .Step("slow", "echo started; sleep 30; printf done > slow.txt", ("Outputs", "slow.txt"))
            .Step("after", Counted("after", "true"), ("DependsOn", "slow"));

        var run = await _pipeline.RunAsync(log: log, cancellationToken: cancel.Token);

        run.AssertOutcome("slow", StepOutcome.Failed).AssertOutcome("after", StepOutcome.NotRun);
        Assert.Equal("slow", run.SingleError(ErrorCodes.StepCancelled).Step);
        Assert.StartsWith("Step after was not run: ", run.Message("Step after was not run"), StringComparison.Ordinal);
        Assert.False(Project.Exists("slow.txt"));
        using (var store = _pipeline.OpenStore())
        {
            Assert.Empty(store.AllEntries());
        }

        Assert.Equal("cancelled", RunStatus(run.Result.RunId));
    }

    private string RunStatus(string runId)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_pipeline.CacheDirectory, "cache.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT status FROM runs WHERE id = $id";
        command.Parameters.AddWithValue("$id", runId);
        return (string)command.ExecuteScalar()!;
    }

    [Fact]
    public async Task EveryRunIsRecordedWithItsOutcome()
    {
        _pipeline
            .Step("ok", "true")
            .Step("bad", "exit 1");

        var run = await _pipeline.RunAsync();

        using var connection = new SqliteConnection($"Data Source={Path.Combine(_pipeline.CacheDirectory, "cache.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT r.status, r.steps_total, r.steps_executed, r.steps_failed, s.outcome, s.reason FROM runs r JOIN step_runs s ON s.run_id = r.id WHERE r.id = $id AND s.step = 'bad'";
        command.Parameters.AddWithValue("$id", run.Result.RunId);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(("failed", 2L, 1L, 1L, "failed", "exit code 1"),
            (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetString(4), reader.GetString(5)));
    }

    [Fact]
    public async Task TheKeyCommandsOutputDecidesAHit()
    {
        Project.Write("etag.txt", "rev-1");
        _pipeline.Step("fetch", Counted("fetch", "printf data > data.txt"), ("Outputs", "data.txt"), ("CacheKeyCommand", "cat etag.txt"));

        await _pipeline.RunAsync();
        var same = await _pipeline.RunAsync();
        Project.Write("etag.txt", "rev-2");
        var changed = await _pipeline.RunAsync();

        same.AssertOutcome("fetch", StepOutcome.Cached);
        changed.AssertOutcome("fetch", StepOutcome.Executed);
        changed.AssertMessage("Cache miss for fetch: key command output changed.");
        Assert.Equal(2, Executions("fetch"));
    }

    [Fact]
    public async Task AFailingKeyCommandIsMLP2006AndTheStepDoesNotRun()
    {
        _pipeline.Step("fetch", Counted("fetch", "true"), ("CacheKeyCommand", "echo no-remote >&2; exit 4"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("fetch", StepOutcome.Failed);
        var error = run.SingleError(ErrorCodes.CacheKeyCommandFailed);
        Assert.Equal("fetch", error.Step);
        Assert.Contains("exit code 4", error.Message, StringComparison.Ordinal);
        Assert.Equal(["no-remote"], run.Log.LinesOf("fetch"));
        Assert.Equal(0, Executions("fetch"));
    }

    [Fact]
    public async Task AWholeProjectGlobDoesNotReadTheStoreItself()
    {
        Project.Write("data/a.csv", "a");
        _pipeline.Step("all", "true", ("Inputs", "**"));

        await _pipeline.RunAsync();
        var second = await _pipeline.RunAsync();

        second.AssertOutcome("all", StepOutcome.Cached);
        Assert.DoesNotContain(second.Log.Messages, m => m.Contains(".mlpipelines/", StringComparison.Ordinal));
    }
}
