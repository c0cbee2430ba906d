using System.Globalization;

namespace MLPipelines.Tasks.Tests.TestKit;

/// <summary>Whether a process a test's command started is still alive, from <c>/proc</c> (Linux).</summary>
internal static class Processes
{
    /// <summary>The pid a command wrote to <paramref name="file"/> (e.g. <c>echo $$ &gt; bg.pid</c>).</summary>
    public static int ReadPid(string file) => int.Parse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>Alive and not a zombie (a killed process whose parent is gone may wait for a reaper that never comes).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] != 'Z';
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether <paramref name="pid"/> ends within moments: SIGKILL is delivered asynchronously. The bound only keeps a
    /// failing test from hanging; a process that was not killed lives for minutes (the tests' sleeps are 300 s).
    /// </summary>
    public static bool WaitUntilGone(int pid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
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

    /// <summary>Kills <paramref name="pid"/> if a failed test left it alive.</summary>
    public static void KillIfAlive(int pid)
    {
        if (pid > 0 && IsAlive(pid))
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Gone meanwhile.
            }
        }
    }
}
