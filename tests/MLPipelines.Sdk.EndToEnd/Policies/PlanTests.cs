using System.Text.Json;
using MLPipelines.Sdk.EndToEnd.Core;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Policies;

/// <summary>
/// <c>PlanPipeline</c>: a dry run that says, step by step, what <c>RunPipeline</c> will then do (hit, miss and why,
/// or pending on an upstream step that executes), runs no step command, and writes text or JSON.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class PlanTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void ThePlanSaysHitMissAndPendingAndTheRunThatFollowsDoesJustThat()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveHitMissPendingPipeline(workspace);

        BuildResult plan = workspace.PlanPipeline().EnsureSucceeded();

        int hit = plan.IndexOfLine("a: hit");
        int miss = plan.IndexOfLine("b: miss (input b.txt changed)");
        int pending = plan.IndexOfLine("c: pending (waits for b)");
        Assert.True(hit >= 0 && miss > hit && pending > miss, $"Expected the plan lines of a, b and c in that order.\n{plan}");
        Assert.Empty(plan.LinesContaining("has started."));
        Assert.Equal("b1\n", workspace.ReadFile("out/b.txt"));

        workspace.RunPipeline().EnsureSucceeded()
            .EnsureHit("a")
            .EnsureMiss("b", "input b.txt changed")
            .EnsureMiss("c", "input out/b.txt changed");
        Assert.Equal("b2\n", workspace.ReadFile("c.txt"));
    }

    [Fact]
    public void AGlobOverAnUpstreamOutputFolderWithAnExtraFileIsPlannedAsTheRestoreLeavesIt()
    {
        // F3: the plan said glob: miss (input data/z.txt added), though the run restores prep (removing z.txt) first
        // and glob then hits.
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("prep", "mkdir -p data; echo 1 > data/x.txt; echo 2 > data/y.txt", outputs: "data/")
            .Step("glob", "cat data/*.txt > all.txt", inputs: "data/*.txt", outputs: "all.txt")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        workspace.WriteFile("data/z.txt", "new\n");

        workspace.PlanPipeline().EnsureSucceeded()
            .EnsureLine("prep: hit (would remove 1 path its entry does not hold: data/z.txt)")
            .EnsureLine("glob: hit");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("prep").EnsureHit("glob");
        Assert.False(workspace.FileExists("data/z.txt"));
    }

    [Fact]
    public void WithFailFastThePlanShowsPendingTheStepsTheRunDoesNotStartAfterAPredictedFailure()
    {
        // F5: bad's input is missing, so the run fails there; one step at a time, it starts slow, then bad, and then
        // nothing more. PipelineContinueOnError reaches the plan through Sdk.targets.
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("slow", "printf s > slow.txt", outputs: "slow.txt")
            .Step("bad", "cat missing.txt > bad.txt", inputs: "missing.txt", outputs: "bad.txt")
            .Step("after", "cat slow.txt > after.txt", inputs: "slow.txt", outputs: "after.txt")
            .Step("indep", "printf i > indep.txt", outputs: "indep.txt")
            .Save(workspace);
        string one = DotnetRunner.Property("PipelineMaxParallelism", "1");
        string keepGoing = DotnetRunner.Property("PipelineContinueOnError", "true");
        workspace.RunPipeline(keepGoing).EnsureFailed();

        workspace.PlanPipeline(one).EnsureSucceeded()
            .EnsureLine("slow: hit")
            .EnsureLine("after: pending (the run stops after bad fails; PipelineContinueOnError=true runs it)")
            .EnsureLine("indep: pending (the run stops after bad fails; PipelineContinueOnError=true runs it)");
        workspace.RunPipeline(one).EnsureFailed()
            .EnsureLine("Step after was not run: stopped after bad failed; set PipelineContinueOnError=true to keep going.")
            .EnsureLine("Step indep was not run: stopped after bad failed; set PipelineContinueOnError=true to keep going.");
        workspace.PlanPipeline(one, keepGoing).EnsureSucceeded().EnsureLine("after: hit").EnsureLine("indep: hit");
        workspace.RunPipeline(one, keepGoing).EnsureFailed().EnsureHit("after").EnsureHit("indep");
    }

    [Fact]
    public void ThePlanRunsNoStepCommandButDoesRunTheCacheKeyCommand()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("mark", "echo ran > marker.txt", outputs: "marker.txt",
                metadata: [new("CacheKeyCommand", "echo asked > key-command-ran.txt && echo rev1")])
            .Save(workspace);

        BuildResult plan = workspace.PlanPipeline().EnsureSucceeded().EnsureLine("mark: miss (no earlier result)");

        Assert.False(workspace.FileExists("marker.txt"), $"The plan ran the step's command.\n{plan}");
        Assert.Empty(plan.LinesContaining("has started."));
        Assert.Equal("asked\n", workspace.ReadFile("key-command-ran.txt"));
    }

    [Fact]
    public void TheJsonPlanParsesInTheLogAndInAFileAndItsKeysAreTheKeysOfTheRun()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveHitMissPendingPipeline(workspace);
        string json = DotnetRunner.Property("PipelinePlanFormat", "json");

        BuildResult logged = workspace.PlanPipeline(json).EnsureSucceeded();
        JsonElement fromLog = ParsePlan(JsonFromLog(logged));
        workspace.PlanPipeline(json, DotnetRunner.Property("PipelinePlanFile", "plans/plan.json")).EnsureSucceeded()
            .EnsureLine($"Plan for pipeline pipeline written to {workspace.GetPath("plans/plan.json")}.");
        JsonElement fromFile = ParsePlan(workspace.ReadFile("plans/plan.json"));

        foreach (JsonElement plan in new[] { fromLog, fromFile })
        {
            Assert.Equal("pipeline", plan.GetProperty("pipeline").GetString());
            JsonElement[] steps = plan.GetProperty("steps").EnumerateArray().ToArray();
            Assert.Equal(["a", "b", "c"], steps.Select(s => s.GetProperty("name").GetString()));
            Assert.Equal(["hit", "miss", "pending"], steps.Select(s => s.GetProperty("status").GetString()));
            Assert.Equal(["", "input b.txt changed", "waits for b"], steps.Select(s => s.GetProperty("reason").GetString()));
            Assert.Equal(JsonValueKind.Null, steps[2].GetProperty("key").ValueKind);
        }

        Assert.Equal(KeysOf(fromLog), KeysOf(fromFile));

        workspace.RunPipeline().EnsureSucceeded().EnsureHit("a").EnsureMiss("b", "input b.txt changed");
        var store = StoreInspector.Of(workspace);
        IReadOnlyDictionary<string, StepRunRow> ran = store.StepRuns(store.LatestRun().Id);
        Assert.Equal(KeysOf(fromFile)["a"], ran["a"].Key);
        Assert.Equal(KeysOf(fromFile)["b"], ran["b"].Key);
    }

    [Fact]
    public void ThePlanSaysWhichEditedOrDeletedOutputsAHitRestoresAndTheRunRestoresJustThose()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("data", "mkdir -p data && printf 1 > data/a.csv && printf 2 > data/b.csv && printf 3 > data/c.csv", outputs: "data/")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        workspace.WriteFile("data/a.csv", "edited").WriteFile("data/b.csv", "edited too").Delete("data/c.csv").WriteFile("data/extra.tmp", "x");

        workspace.PlanPipeline().EnsureSucceeded()
            .EnsureLine("data: hit (would restore 2 edited, 1 deleted outputs: data/a.csv, data/b.csv, data/c.csv; would remove 1 path its entry does not hold: data/extra.tmp)");
        JsonElement step = ParsePlan(JsonFromLog(workspace.PlanPipeline(DotnetRunner.Property("PipelinePlanFormat", "json")).EnsureSucceeded()))
            .GetProperty("steps")[0];
        Assert.Equal("hit", step.GetProperty("status").GetString());
        Assert.Equal(["data/a.csv", "data/b.csv"], Strings(step.GetProperty("restore").GetProperty("edited")));
        Assert.Equal(["data/c.csv"], Strings(step.GetProperty("restore").GetProperty("deleted")));
        Assert.Equal(["data/extra.tmp"], Strings(step.GetProperty("restore").GetProperty("extra")));
        Assert.Equal(JsonValueKind.Null, step.GetProperty("resume").ValueKind);
        Assert.Equal("edited", workspace.ReadFile("data/a.csv"));

        workspace.RunPipeline().EnsureSucceeded().EnsureHit("data")
            .EnsureLine("Restored 3 output files of data from the cache.")
            .EnsureLine("Removed 1 path from the outputs of data that its cached result does not hold.");
        Assert.Equal(("1", "2", "3", false), (workspace.ReadFile("data/a.csv"), workspace.ReadFile("data/b.csv"), workspace.ReadFile("data/c.csv"), workspace.FileExists("data/extra.tmp")));
        workspace.PlanPipeline().EnsureSucceeded().EnsureLine("data: hit");
    }

    [Fact]
    public void ThePlanOfAResumeSaysWhatTheResumedRunThenDoes()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("a", "printf a > a.txt", outputs: "a.txt")
            .Step("b", "cat a.txt > b.txt", inputs: "a.txt", outputs: "b.txt")
            .Step("c", "cat b.txt > c.txt", inputs: "b.txt", outputs: "c.txt")
            .Step("d", "printf d > d.txt", outputs: "d.txt")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        workspace.Delete("a.txt");
        string resume = DotnetRunner.Property("PipelineResumeFrom", "b");

        BuildResult plan = workspace.PlanPipeline(resume).EnsureSucceeded();
        plan.EnsureLine("a: hit (restored, not executed: resuming from b; would restore 1 deleted output: a.txt)");
        plan.EnsureLine("b: miss (resumed from b)");
        plan.EnsureLine("c: miss (resumed from b)");
        plan.EnsureLine("d: hit");
        plan.EnsureLine("Plan pipeline: 4 steps, 2 hit, 2 miss, 0 pending.");
        JsonElement[] steps = ParsePlan(JsonFromLog(workspace.PlanPipeline(resume, DotnetRunner.Property("PipelinePlanFormat", "json")).EnsureSucceeded()))
            .GetProperty("steps").EnumerateArray().ToArray();
        Assert.Equal(["restore", "execute", "execute", "(null)"], steps.Select(s => s.GetProperty("resume").GetString() ?? "(null)"));
        Assert.False(workspace.FileExists("a.txt"), $"The plan restored an output.\n{plan}");

        workspace.RunPipeline(resume).EnsureSucceeded()
            .EnsureHit("a").EnsureLine("Restored 1 output file of a from the cache.")
            .EnsureMiss("b", "resumed from b").EnsureMiss("c", "resumed from b").EnsureHit("d");
    }

    [Fact]
    public void ThePlanOfAResumeThatCannotRestoreAnUpstreamStepSaysTheRunFailsAndTheRunDoes()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("G", "1")
            .Step("a", "printf \"$PARAM_G\" > a.txt", outputs: "a.txt", parameters: "G=$(G)")
            .Step("b", "cat a.txt > b.txt", inputs: "a.txt", outputs: "b.txt")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        string[] arguments = [DotnetRunner.Property("G", "2"), DotnetRunner.Property("PipelineResumeFrom", "b")];

        workspace.PlanPipeline(arguments).EnsureSucceeded()
            .EnsureLine("a: miss (cannot be restored for the resume: the inputs of step 'a' changed since its newest cached result (parameter G changed (1 -> 2)); the run will fail with MLP2007)")
            .EnsureLine("b: pending (waits for a)");

        BuildResult run = workspace.RunPipeline(arguments).EnsureFailed().EnsureLine("Step b was not run: needs a, which failed.");
        BuildMessage error = Assert.Single(run.Errors);
        Assert.Equal("MLP2007", error.Code);
        Assert.Contains("the inputs of step 'a' changed since its newest cached result (parameter G changed (1 -> 2))", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PipelineCacheMaxAge", "soon")]
    [InlineData("PipelineCacheMaxSize", "big")]
    [InlineData("PipelineRunHistoryLimit", "0")]
    [InlineData("PipelineLockTimeout", "forever")]
    [InlineData("PipelineReplayLogs", "maybe")]
    public void APropertyTheRunRejectsBeforeAnyStepFailsThePlanWithTheSameError(string property, string value)
    {
        // The plan did not read these, so it planned hits for a run that fails at once.
        using Workspace workspace = Workspace.Create(package, output, $"{nameof(APropertyTheRunRejectsBeforeAnyStepFailsThePlanWithTheSameError)}-{property}");
        PipelineProject.Create(package.Version).TracedStep("a", "echo a > a.txt", outputs: "a.txt").Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        workspace.ClearExecuted();
        string argument = DotnetRunner.Property(property, value);

        BuildResult plan = workspace.PlanPipeline(argument).EnsureFailed();
        BuildResult graph = workspace.RunTarget("ShowPipelineGraph", argument).EnsureFailed();
        BuildResult run = workspace.RunPipeline(argument).EnsureFailed();

        string[] Codes(BuildResult result) => result.Errors.Select(e => $"{e.Code}: {e.Message}").Distinct().ToArray();
        Assert.NotEmpty(Codes(run));
        Assert.Equal(Codes(run), Codes(plan));
        Assert.Equal(Codes(run), Codes(graph));
        Assert.Contains(property, Codes(run)[0], StringComparison.Ordinal);
        Assert.Empty(workspace.Executed());
    }

    [Fact]
    public void AnAlteredObjectTheRestoreMustCopyIsPlannedAsTheRunsDamagedMiss()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version).TracedStep("a", "echo a > a.txt", outputs: "a.txt").Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        string hash = Assert.Single(StoreInspector.Of(workspace).Entry("a").Manifest).Hash;
        string file = workspace.GetPath($".mlpipelines/objects/{hash[..2]}/{hash}");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.WriteAllText(file, "z\n"); // Same size, other bytes.
        workspace.Delete("a.txt").ClearExecuted();

        workspace.PlanPipeline().EnsureSucceeded().EnsureLine("a: miss (cached result damaged)");
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("a", "cached result damaged");
        Assert.Equal(["a"], workspace.Executed());
        Assert.Equal("a\n", workspace.ReadFile("a.txt"));
    }

    [Fact]
    public void ACorruptEntryIsPlannedAsTheRunsDamagedMissAndThePlanLeavesItForTheRunToFind()
    {
        // The plan deleted a corrupt entry as the run does, so the run after it gave another reason than the plan's.
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("train", "mkdir -p model && echo w > model/w.bin", outputs: "model/")
            .Step("eval", "cat model/w.bin > eval.txt", inputs: "model/", outputs: "eval.txt")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        Assert.Equal(1, StoreInspector.Of(workspace).Execute("UPDATE entries SET manifest = '{not json' WHERE step = 'train'"));

        BuildResult plan = workspace.PlanPipeline().EnsureSucceeded()
            .EnsureLine("train: miss (cached result damaged)")
            .EnsureLine("eval: pending (waits for train)");
        Assert.Contains(plan.Warnings, w => w.Code == "MLP3002" && w.Message.Contains("'train'", StringComparison.Ordinal));
        // Still there (a no-op update counts the row; the inspector cannot parse the corrupt manifest).
        Assert.Equal(1, StoreInspector.Of(workspace).Execute("UPDATE entries SET step = step WHERE step = 'train'"));

        BuildResult run = workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "cached result damaged").EnsureHit("eval");
        Assert.Contains(run.Warnings, w => w.Code == "MLP3002" && w.Message.Contains("'train'", StringComparison.Ordinal));
    }

    /// <summary>
    /// a: unchanged (a hit); b: its input edited (a miss); c: reads b's output (pending on b). Runs once, then edits.
    /// </summary>
    private void SaveHitMissPendingPipeline(Workspace workspace)
    {
        workspace.WriteFile("b.txt", "b1\n");
        PipelineProject.Create(package.Version)
            .Step("a", "echo a > a.txt", outputs: "a.txt")
            .Step("b", "mkdir -p out && cat b.txt > out/b.txt", inputs: "b.txt", outputs: "out/b.txt")
            .Step("c", "cat out/b.txt > c.txt", inputs: "out/b.txt", outputs: "c.txt")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("a", "no earlier result").EnsureMiss("b", "no earlier result").EnsureMiss("c", "no earlier result");
        workspace.WriteFile("b.txt", "b2\n");
    }

    /// <summary>The JSON the plan logged: from the line "{" to the last line "}", without the logger's indentation.</summary>
    private static string JsonFromLog(BuildResult result)
    {
        List<string> lines = result.Lines.Select(line => line.Trim()).ToList();
        int start = lines.IndexOf("{");
        int end = lines.LastIndexOf("}");
        Assert.True(start >= 0 && end > start, $"No JSON plan in the log.\n{result}");
        return string.Join('\n', lines.GetRange(start, end - start + 1));
    }

    private static JsonElement ParsePlan(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString() ?? "(null)").ToArray();

    private static Dictionary<string, string?> KeysOf(JsonElement plan) =>
        plan.GetProperty("steps").EnumerateArray().ToDictionary(
            s => s.GetProperty("name").GetString()!,
            s => s.GetProperty("key").ValueKind == JsonValueKind.Null ? null : s.GetProperty("key").GetString());
}
