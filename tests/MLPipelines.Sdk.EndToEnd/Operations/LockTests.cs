using System.Text.RegularExpressions;
using MLPipelines.Sdk.EndToEnd.Core;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>
/// One build of a project's pipeline at a time (SPEC "Change detection", <c>PipelineLockTimeout</c>): two real
/// <c>dotnet build</c> processes. Build A's step <c>slow</c> appends "begin" to its output, signals with a file
/// <c>started</c>, waits for a file <c>go</c>, sleeps a second and appends "end"; the test starts build B while A
/// waits, and writes <c>go</c> once B has shown what it does (its "Waiting…" line, or its end).
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed partial class LockTests(SdkPackage package, ITestOutputHelper output)
{
    private static readonly TimeSpan SignalTimeout = TimeSpan.FromMinutes(2);

    // Bounded (60 s), so a test that never writes "go" still ends. Backticks: MSBuild would read $(…) as a property.
    private const string SlowCommand =
        "echo begin >> out.txt && touch started && for i in `seq 600`; do test -f go && break; sleep 0.1; done && sleep 1 && echo end >> out.txt";

    [Fact]
    public async Task ASecondBuildOfTheSameProjectWaitsForTheFirstAndThenHits()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveSlowPipeline(workspace);

        (BuildResult a, BuildResult b) = await BesideSlowStep(workspace, "", (runner, _) => runner.RunPipeline(), releaseWhenWaiting: true);

        a.EnsureSucceeded().EnsureMiss("slow", "no earlier result");
        b.EnsureSucceeded().EnsureHit("slow");
        string waitingLine = Assert.Single(WaitingLines(b));
        Assert.True(b.IndexOfLine(waitingLine) < b.IndexOfLine("Step slow has started."), b.ToString());
        Assert.Empty(WaitingLines(a));
        // Executed once, by A; B looked up its key only once A had stored the result: nothing interleaved.
        Assert.Equal(["slow"], workspace.Executed());
        Assert.Equal("begin\nend\n", workspace.ReadFile("out.txt"));
        Assert.Equal(["slow"], StoreInspector.Of(workspace).EntrySteps());
    }

    [Fact]
    public async Task AfterPipelineLockTimeoutTheSecondBuildFailsWithMLP3005AndRunsNothing()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveSlowPipeline(workspace);

        (BuildResult a, BuildResult b) = await BesideSlowStep(
            workspace, "", (runner, _) => runner.RunPipeline(DotnetRunner.Property("PipelineLockTimeout", "1")), releaseWhenWaiting: false);

        b.EnsureFailed().EnsureNoStackTrace();
        BuildMessage error = Assert.Single(b.Errors);
        Assert.Equal("MLP3005", error.Code);
        Assert.Matches(
            @"^Another build of pipeline pipeline \(process \d+\) is still running in this project directory after PipelineLockTimeout \(00:00:01\) of waiting, so this build ran no step\.",
            error.Message);
        Assert.Equal(workspace.GetPath(PipelineRuns.Project), error.File);
        Assert.Single(WaitingLines(b));
        Assert.Empty(b.LinesContaining("has started."));
        a.EnsureSucceeded();
        Assert.Equal(["slow"], workspace.Executed());
        Assert.Equal("begin\nend\n", workspace.ReadFile("out.txt"));
    }

    [Fact]
    public async Task BuildsOfTwoProjectsSharingOneStoreRunSideBySide()
    {
        using Workspace workspace = Workspace.Create(package, output);
        // The same pipeline name in both: the lock is per project directory, not per name or store.
        SaveSlowPipeline(workspace, "a/");
        PipelineProject.Create(package.Version)
            .Property("PipelineName", "shared")
            .Property("PipelineCacheDir", "$(MSBuildProjectDirectory)/../store")
            .TracedStep("quick", "echo quick > quick.txt", outputs: "quick.txt")
            .Save(workspace, "b/pipeline.proj");

        (BuildResult a, BuildResult b) = await BesideSlowStep(workspace, "a/", (runner, aTask) =>
        {
            BuildResult result = runner.Build("b/pipeline.proj", DotnetRunner.Target("RunPipeline"));
            // B is done while A still waits in its step: they ran at the same time.
            Assert.False(aTask.IsCompleted, $"Build A ended before build B.\n{result}");
            return result;
        }, releaseWhenWaiting: false);

        b.EnsureSucceeded().EnsureMiss("quick", "no earlier result");
        Assert.Empty(WaitingLines(b));
        a.EnsureSucceeded().EnsureMiss("slow", "no earlier result");
        Assert.Equal(2, Directory.GetFiles(workspace.GetPath("store/locks"), "*.lock").Length);
        Assert.Equal(["quick", "slow"], new StoreInspector(workspace.GetPath("store")).EntrySteps());
    }

    [Fact]
    public async Task PlanningOrListingRunsDuringARunDoesNotWait()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveSlowPipeline(workspace);

        (BuildResult a, BuildResult plan) = await BesideSlowStep(workspace, "", (runner, aTask) =>
        {
            BuildResult result = runner.RunTarget("PlanPipeline");
            runner.RunTarget("ListPipelineRuns").EnsureSucceeded();
            Assert.False(aTask.IsCompleted, $"Build A ended before the plan.\n{result}");
            return result;
        }, releaseWhenWaiting: false);

        plan.EnsureSucceeded().EnsureLine("slow: miss (no earlier result)");
        Assert.Empty(WaitingLines(plan));
        a.EnsureSucceeded();
    }

    /// <summary>The pipeline of build A: the step <c>slow</c>, in <paramref name="folder"/> ("" or "a/") of the workspace.</summary>
    private void SaveSlowPipeline(Workspace workspace, string folder = "")
    {
        PipelineProject project = PipelineProject.Create(package.Version);
        if (folder.Length > 0)
        {
            project.Property("PipelineName", "shared").Property("PipelineCacheDir", "$(MSBuildProjectDirectory)/../store");
        }

        project.TracedStep("slow", SlowCommand, outputs: "out.txt").Save(workspace, folder + PipelineRuns.Project);
    }

    /// <summary>
    /// Starts build A (RunPipeline of <paramref name="folder"/>'s project) and, once its step waits, build B through
    /// <paramref name="second"/> (given a runner that watches B's lines, and A's task). Lets A go on when B says it
    /// waits (<paramref name="releaseWhenWaiting"/>) or when B has ended, and returns both results.
    /// </summary>
    private static async Task<(BuildResult A, BuildResult B)> BesideSlowStep(
        Workspace workspace, string folder, Func<DotnetRunner, Task<BuildResult>, BuildResult> second, bool releaseWhenWaiting)
    {
        var runnerA = new DotnetRunner(workspace);
        Task<BuildResult> a = Task.Run(() => runnerA.Build(folder + PipelineRuns.Project, DotnetRunner.Target("RunPipeline")));
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runnerB = new DotnetRunner(workspace)
        {
            OnLine = line =>
            {
                if (WaitingLine().IsMatch(line.Trim()))
                {
                    waiting.TrySetResult();
                }
            },
        };

        Task<BuildResult>? b = null;
        try
        {
            await Signal(() => workspace.FileExists(folder + "started"), a, "Build A's step did not start");
            b = Task.Run(() => second(runnerB, a));
            if (releaseWhenWaiting)
            {
                // B's "Waiting…" line, or its end (then the assertions on B say what went wrong).
                await Task.WhenAny(waiting.Task, b, Task.Delay(SignalTimeout));
            }
            else
            {
                await b;
            }
        }
        finally
        {
            // Let A finish in every case, so that no build outlives the workspace.
            workspace.WriteFile(folder + "go", "");
        }

        return (await a, await b);
    }

    private static async Task Signal(Func<bool> happened, Task<BuildResult> a, string what)
    {
        DateTime deadline = DateTime.UtcNow + SignalTimeout;
        while (!happened())
        {
            if (a.IsCompleted)
            {
                Assert.Fail($"{what}: build A ended.\n{await a}");
            }

            Assert.True(DateTime.UtcNow < deadline, $"{what} within {SignalTimeout}.");
            await Task.Delay(100);
        }
    }

    private static List<string> WaitingLines(BuildResult result) =>
        result.Lines.Select(line => line.Trim()).Where(line => WaitingLine().IsMatch(line)).ToList();

    [GeneratedRegex(@"^Waiting for another build of pipeline (pipeline|shared) \(process \d+\)…$")]
    private static partial Regex WaitingLine();
}
