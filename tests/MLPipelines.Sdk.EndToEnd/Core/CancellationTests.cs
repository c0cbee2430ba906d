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

    [Fact]
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
            sleepPid = WaitForPid(workspace, build);
            int dotnetPid = FindAncestor(sleepPid, cmdline => cmdline.Contains(PipelineRuns.Project, StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"No ancestor of process {sleepPid} builds {PipelineRuns.Project}.");
            workspace.Run("kill", "-INT", dotnetPid.ToString(CultureInfo.InvariantCulture)).EnsureSucceeded();

            BuildResult cancelled = await build;

            Assert.False(cancelled.TimedOut, cancelled.ToString());
            cancelled.EnsureFailed();
            Assert.True(WaitUntilGone(sleepPid), $"The step's sleep (pid {sleepPid}) outlived the cancelled build.\n{cancelled}");
            Assert.False(workspace.FileExists("out.txt"), cancelled.ToString());
            Assert.Empty(StoreInspector.Of(workspace).Entries());
        }
        finally
        {
            if (sleepPid > 0 && IsAlive(sleepPid))
            {
                workspace.Run("kill", "-KILL", sleepPid.ToString(CultureInfo.InvariantCulture));
            }

            // The build's own timeout (2 minutes) bounds this wait.
            await Task.WhenAny(build);
        }

        workspace.WriteFile("fast", "").ClearExecuted();
        BuildResult next = workspace.RunPipeline().EnsureSucceeded();

        next.EnsureMiss("slow", "no earlier result");
        Assert.Equal(["slow"], workspace.Executed());
    }

    private static int WaitForPid(Workspace workspace, Task<BuildResult> build)
    {
        // A bound, not a timing assertion: how long a loaded machine may take to restore, evaluate and start the step.
        DateTime deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (build.IsCompleted)
            {
                Assert.Fail($"The build ended before the step started its sleep.\n{build.GetAwaiter().GetResult()}");
            }

            if (workspace.FileExists("sleep.pid")
                && int.TryParse(workspace.ReadFile("sleep.pid").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && pid > 0)
            {
                return pid;
            }

            Thread.Sleep(100);
        }

        throw new TimeoutException("The step did not write sleep.pid within 90s.");
    }

    /// <summary>The nearest ancestor of <paramref name="pid"/> whose command line matches, from /proc.</summary>
    private static int? FindAncestor(int pid, Func<string, bool> matches)
    {
        for (int current = ParentOf(pid); current > 1; current = ParentOf(current))
        {
            string cmdline = File.ReadAllText($"/proc/{current}/cmdline").Replace('\0', ' ');
            if (matches(cmdline))
            {
                return current;
            }
        }

        return null;
    }

    private static int ParentOf(int pid)
    {
        // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so read after the last ')'.
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[1], CultureInfo.InvariantCulture);
    }

    /// <summary>Alive and not a zombie (a killed child whose parent is gone may wait for a reaper that never comes).</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool WaitUntilGone(int pid)
    {
        // A killed process is gone within moments; the bound only keeps a failure from hanging.
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (IsAlive(pid))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Sleep(50);
        }

        return true;
    }
}
