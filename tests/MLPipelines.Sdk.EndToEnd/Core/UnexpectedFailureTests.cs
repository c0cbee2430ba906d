using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// Issue "A run never leaves a mess": an unexpected failure in one step (here injected with the test-only switch, at
/// the point where its command has succeeded) is MLP4003 naming the step, with no stack trace at the default
/// verbosity; the step running beside it is stopped, with every process it started, before the build returns; and
/// the run is recorded as failed, not left "running".
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class UnexpectedFailureTests(SdkPackage package, ITestOutputHelper output)
{
    // slow: a background sleep whose output goes elsewhere (only a process group finds it), then a foreground one.
    private const string SlowCommand =
        "sh -c 'echo $$ > bg.pid; exec sleep 300' > /dev/null 2>&1 &\nsh -c 'echo $$ > sleep.pid; exec sleep 300'\necho done > slow.txt";

    // boom succeeds once slow sleeps (bounded: at most 60 s), so slow is certainly running when boom fails.
    // Backticks, not $((…)), which MSBuild would read as a property.
    private const string BoomCommand =
        "for i in `seq 1200`; do test -s sleep.pid && test -s bg.pid && break; sleep 0.05; done; echo ok > boom.txt";

    [Fact]
    public void AnUnexpectedFailureStopsTheParallelStepAndClosesTheRun()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Walks /proc to find the processes.
        }

        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("slow", SlowCommand, outputs: "slow.txt")
            .Step("boom", BoomCommand, outputs: "boom.txt")
            .Save(workspace);
        var runner = new DotnetRunner(workspace) { Timeout = TimeSpan.FromMinutes(3) };
        runner.Environment["MLPIPELINES_TEST_CRASH_ARM"] = "kill-this-build-for-a-test";
        runner.Environment["MLPIPELINES_TEST_CRASH_POINT"] = "step-executed@boom";

        BuildResult failed = runner.RunPipeline();

        int sleepPid = int.Parse(workspace.ReadFile("sleep.pid").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        int backgroundPid = int.Parse(workspace.ReadFile("bg.pid").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            Assert.False(failed.TimedOut, failed.ToString());
            failed.EnsureFailed();
            Assert.True(ProcessTable.WaitUntilGone(sleepPid), $"The sleep of step slow (pid {sleepPid}) outlived the build.\n{failed}");
            Assert.True(ProcessTable.WaitUntilGone(backgroundPid), $"The background sleep of step slow (pid {backgroundPid}) outlived the build.\n{failed}");

            BuildMessage unexpected = Assert.Single(failed.Errors, e => e.Code == "MLP4003");
            Assert.StartsWith("Step 'boom' failed unexpectedly: InvalidOperationException: Test failure injected at step-executed in step boom.", unexpected.Message, StringComparison.Ordinal);
            Assert.Equal(workspace.GetPath(PipelineRuns.Project), unexpected.File);
            Assert.DoesNotContain(failed.Lines, line => line.TrimStart().StartsWith("at MLPipelines.", StringComparison.Ordinal));
            BuildMessage stopped = Assert.Single(failed.Errors, e => e.Code == "MLP2004");
            Assert.Contains("'slow'", stopped.Message, StringComparison.Ordinal);
            Assert.Contains("step boom failed unexpectedly", stopped.Message, StringComparison.Ordinal);
            Assert.Equal(2, failed.Errors.Count);

            var store = StoreInspector.Of(workspace);
            RunRow run = store.LatestRun();
            Assert.Equal("failed", run.Status);
            Assert.NotNull(run.EndedAt);
            Assert.Empty(store.Entries());
            Assert.False(workspace.FileExists("slow.txt"), failed.ToString());
        }
        finally
        {
            ProcessTable.KillIfAlive(workspace, sleepPid, backgroundPid);
        }
    }
}
