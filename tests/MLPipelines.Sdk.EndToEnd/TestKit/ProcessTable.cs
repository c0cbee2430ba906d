using System.Globalization;

namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>
/// The processes a build and its steps started, read from <c>/proc</c> (Linux only): whether one is alive, its
/// parent and process group, and the build that started it.
/// </summary>
public static class ProcessTable
{
    /// <summary>The pid a step wrote to <paramref name="relativePath"/> once it is there (bounded: a loaded machine may take a while to start the step).</summary>
    public static int WaitForPid(Workspace workspace, string relativePath, Task<BuildResult> build)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(build);
        DateTime deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (workspace.FileExists(relativePath)
                && int.TryParse(workspace.ReadFile(relativePath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && pid > 0)
            {
                return pid;
            }

            if (build.IsCompleted)
            {
                Assert.Fail($"The build ended before a step wrote {relativePath}.\n{build.GetAwaiter().GetResult()}");
            }

            Thread.Sleep(100);
        }

        throw new TimeoutException($"No step wrote {relativePath} within 90s.");
    }

    /// <summary>The nearest ancestor of <paramref name="pid"/> whose command line matches.</summary>
    public static int? FindAncestor(int pid, Func<string, bool> matches)
    {
        ArgumentNullException.ThrowIfNull(matches);
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

    /// <summary>The <c>dotnet build</c> of the pipeline project that <paramref name="pid"/> descends from.</summary>
    public static int BuildOf(int pid) =>
        FindAncestor(pid, cmdline => cmdline.Contains(PipelineRuns.Project, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"No ancestor of process {pid} builds {PipelineRuns.Project}.");

    public static int ParentOf(int pid) => int.Parse(StatFields(pid)[1], CultureInfo.InvariantCulture);

    public static int GroupOf(int pid) => int.Parse(StatFields(pid)[2], CultureInfo.InvariantCulture);

    /// <summary>
    /// What a terminal's Ctrl+C reaches: every process in <paramref name="build"/>'s process group that is the build
    /// or descends from it (the test host shares the group here; a terminal would have given the build its own).
    /// </summary>
    public static IReadOnlyList<int> ForegroundGroupOf(int build)
    {
        int group = GroupOf(build);
        var members = new List<int>();
        foreach (string entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                if (GroupOf(pid) == group && DescendsFrom(pid, build))
                {
                    members.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Ended meanwhile.
            }
        }

        return members;
    }

    /// <summary>Alive and not a zombie (a killed child whose parent is gone may wait for a reaper that never comes).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Whether <paramref name="pid"/> ends within moments (SIGKILL is asynchronous); the bound only keeps a failure from hanging.</summary>
    public static bool WaitUntilGone(int pid)
    {
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

    /// <summary>SIGKILL to each pid a failed test left alive.</summary>
    public static void KillIfAlive(Workspace workspace, params int[] pids)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        foreach (int pid in pids.Where(p => p > 0 && IsAlive(p)))
        {
            workspace.Run("kill", "-KILL", pid.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static bool DescendsFrom(int pid, int ancestor)
    {
        for (int current = pid; current > 1; current = ParentOf(current))
        {
            if (current == ancestor)
            {
                return true;
            }
        }

        return false;
    }

    // /proc/<pid>/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses, so read after the last ')'.
    private static string[] StatFields(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }
}
