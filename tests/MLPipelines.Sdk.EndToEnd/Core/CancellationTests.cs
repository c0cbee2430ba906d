using System.Globalization;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// SPEC "Failure and bad input": cancelling the build (Ctrl+C, here SIGINT to the dotnet process) kills the running
/// commands' process trees, and nothing of theirs is cached.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class CancellationTests(SdkPackage package, ITestOutputHelper output)
{
    // Without the file "fast", the step starts a grandchild that writes its pid and sleeps (exec: the pid is sleep's).
    private const string SlowCommand =
        "test -f fast || sh -c 'echo $$ > sleep.pid; exec sleep 300'; echo done > out.txt";

    [CtrlCFact]
    public async Task CtrlCKillsTheRunningStepsProcessTreeAndCachesNothing()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Walks /proc to find the processes.
        }

        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .TracedStep("slow", SlowCommand, outputs: "out.txt")
            .Save(workspace);

        var runner = new DotnetRunner(workspace) { Timeout = TimeSpan.FromMinutes(2) };
        Task<BuildResult> build = Task.Run(() => runner.RunPipeline());
        int sleepPid = 0;
        try
        {
            sleepPid = ProcessTable.WaitForPid(workspace, "sleep.pid", build);
            int dotnetPid = ProcessTable.BuildOf(sleepPid);
            workspace.Run("kill", "-INT", dotnetPid.ToString(CultureInfo.InvariantCulture)).EnsureSucceeded();

            BuildResult cancelled = await build;

            Assert.False(cancelled.TimedOut, cancelled.ToString());
            cancelled.EnsureFailed();
            Assert.True(ProcessTable.WaitUntilGone(sleepPid), $"The step's sleep (pid {sleepPid}) outlived the cancelled build.\n{cancelled}");
            Assert.False(workspace.FileExists("out.txt"), cancelled.ToString());
            Assert.Empty(StoreInspector.Of(workspace).Entries());
        }
        finally
        {
            ProcessTable.KillIfAlive(workspace, sleepPid);

            // The build's own timeout (2 minutes) bounds this wait.
            await Task.WhenAny(build);
        }

        workspace.WriteFile("fast", "").ClearExecuted();
        BuildResult next = workspace.RunPipeline().EnsureSucceeded();

        next.EnsureMiss("slow", "no earlier result");
        Assert.Equal(["slow"], workspace.Executed());
    }

    [CtrlCFact]
    public async Task CtrlCInATerminalCancelsTheStepAsMLP2004AndClosesTheRunAsCancelled()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Walks /proc to find the processes.
        }

        // A background sleep whose output goes elsewhere (only the step's process group finds it), then a foreground one.
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("slow", "sh -c 'echo $$ > bg.pid; exec sleep 300' > /dev/null 2>&1 &\nsh -c 'echo $$ > sleep.pid; exec sleep 300'\necho done > out.txt", outputs: "out.txt")
            .Save(workspace);

        var runner = new DotnetRunner(workspace) { Timeout = TimeSpan.FromMinutes(2) };
        Task<BuildResult> build = Task.Run(() => runner.RunPipeline());
        int sleepPid = 0, backgroundPid = 0;
        try
        {
            sleepPid = ProcessTable.WaitForPid(workspace, "sleep.pid", build);
            backgroundPid = ProcessTable.WaitForPid(workspace, "bg.pid", build);
            // A terminal sends SIGINT to its foreground process group: the build, its nodes, and (were they in that
            // group) the step's processes, which would then die of it before the build could cancel them.
            int dotnetPid = ProcessTable.BuildOf(sleepPid);
            workspace.Run("kill", ["-INT", .. ProcessTable.ForegroundGroupOf(dotnetPid).Select(p => p.ToString(CultureInfo.InvariantCulture))]).EnsureSucceeded();

            BuildResult cancelled = await build;

            Assert.False(cancelled.TimedOut, cancelled.ToString());
            cancelled.EnsureFailed();
            Assert.True(ProcessTable.WaitUntilGone(sleepPid), $"The step's sleep (pid {sleepPid}) outlived the cancelled build.\n{cancelled}");
            Assert.True(ProcessTable.WaitUntilGone(backgroundPid), $"The step's background sleep (pid {backgroundPid}) outlived the cancelled build.\n{cancelled}");
            Assert.True(cancelled.HasError("MLP2004"), cancelled.ToString());
            Assert.False(cancelled.HasError("MLP2001"), cancelled.ToString());
            RunRow run = StoreInspector.Of(workspace).LatestRun();
            Assert.Equal("cancelled", run.Status);
            Assert.NotNull(run.EndedAt);
            Assert.Empty(StoreInspector.Of(workspace).Entries());
        }
        finally
        {
            ProcessTable.KillIfAlive(workspace, sleepPid, backgroundPid);
            await Task.WhenAny(build);
        }
    }
}
