using System.ComponentModel;
using System.Diagnostics;

namespace MLPipelines.Engine.SourceControl;

/// <summary>
/// The commit a run can be tied to: HEAD of the repository holding the project, only when its checkout is clean
/// (no uncommitted or untracked changes), since a dirty checkout's results did not come from that commit.
/// No git, no repository, or any git failure simply means no commit.
/// </summary>
public static class GitCommit
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static string? OfCleanCheckout(string directory)
    {
        // One process: porcelain v2 gives HEAD ("# branch.oid <sha>") and every change; headers start with '#'.
        var status = Git(directory, "status", "--porcelain=v2", "--branch", "--untracked-files=all");
        if (status is null)
        {
            return null;
        }

        var lines = status.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var head = lines.FirstOrDefault(l => l.StartsWith("# branch.oid ", StringComparison.Ordinal))?["# branch.oid ".Length..].Trim();
        var clean = lines.All(l => l.StartsWith('#'));
        return clean && head is { Length: > 0 } && head != "(initial)" ? head : null;
    }

    private static string? Git(string directory, params string[] args)
    {
        var startInfo = new ProcessStartInfo("git")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(startInfo);
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                return null;
            }

            return process.ExitCode == 0 ? output.GetAwaiter().GetResult() : null;
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}
