using System.ComponentModel;
using System.Diagnostics;
using MLPipelines.Engine.Execution;

namespace MLPipelines.Engine.SourceControl;

/// <summary>
/// The commit a run can be tied to: HEAD of the repository holding the project, only when its checkout is clean
/// (no uncommitted or untracked changes), since a dirty checkout's results did not come from that commit.
/// No git, no repository, or any git failure simply means no commit.
/// </summary>
/// <remarks>
/// Kept off the run's critical path twice over. First, the question asked never makes git hash file contents:
/// <c>git status</c> refreshes the index, which re-reads every file whose stat data (mtime, ctime, inode, size)
/// changed, so a touched 1 GiB input cost seconds per run. The plumbing commands used here
/// (<c>diff-index</c>, <c>ls-files</c>, <c>rev-parse</c>) never refresh: a file whose stat data differs from the
/// index counts as modified without being read (git's <c>ie_match_stat</c>), so a touched but unchanged file means
/// "dirty", no commit. That is conservative, never a wrong commit; the user's next <c>git status</c> refreshes the
/// index and the runs after it record the commit again. Second, the lookup runs beside the steps
/// (<see cref="Start"/> at run start, <see cref="GitCommitLookup.CollectAsync"/> at run end) and an answer later than
/// <see cref="AnswerGrace"/> after the last step is dropped, for what plumbing may still read (racily clean index
/// entries, dirty submodules, a slow file system). With <c>GIT_OPTIONAL_LOCKS=0</c> git never writes the index, so a
/// build never races the user's own git.
/// </remarks>
public static class GitCommit
{
    /// <summary>
    /// How long a run waits, after its last step, for the lookup still running: 500 ms. The three plumbing commands
    /// take a few milliseconds each (tens on a large checkout), and they started with the run, so a no-op run of
    /// ~0.3 s has given them that long already; half a second more covers a loaded machine while staying a small
    /// fraction of the ~2.6 s a single re-hash of a 1 GiB file costs, which is what this bound exists to refuse.
    /// </summary>
    public static readonly TimeSpan AnswerGrace = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Starts looking up the commit of <paramref name="directory"/>'s checkout on the thread pool and returns at once.
    /// Dispose the lookup to stop it (its git process is killed).
    /// </summary>
    /// <param name="directory">The project directory; any folder inside the checkout.</param>
    /// <param name="git">The git executable: a name looked up on PATH, or a path (tests pass a stand-in).</param>
    public static GitCommitLookup Start(string directory, string git = "git") => new(directory, git);

    /// <summary>
    /// HEAD (40 or 64 hex digits) when the checkout holding <paramref name="directory"/> is clean, else null:
    /// any staged or unstaged change to a tracked file (a stat-only change counts), any untracked file not ignored,
    /// an unborn HEAD, no repository, no git, or a git failure.
    /// </summary>
    public static async Task<string?> OfCleanCheckoutAsync(string directory, string git, CancellationToken cancellationToken)
    {
        var head = await Git(git, directory, cancellationToken, "rev-parse", "--verify", "--quiet", "HEAD").ConfigureAwait(false);
        if (head is not (0, { } sha) || sha.Trim() is not { Length: > 0 } commit)
        {
            return null;
        }

        // HEAD's tree against the working tree through the index's stat data: staged and unstaged changes alike,
        // exit 1 on any. Without --cached it never refreshes, so it never reads a stat-dirty file.
        var changes = await Git(git, directory, cancellationToken, "diff-index", "--quiet", "HEAD", "--").ConfigureAwait(false);
        if (changes.ExitCode != 0)
        {
            return null;
        }

        // Untracked files not ignored; --directory names an untracked folder once instead of every file in it.
        var untracked = await Git(git, directory, cancellationToken, "ls-files", "--others", "--exclude-standard", "--directory", "--no-empty-directory").ConfigureAwait(false);
        return untracked is (0, { Length: 0 }) ? commit : null;
    }

    /// <summary>Runs git; (exit code, standard output), or (-1, null) when git cannot start or is stopped.</summary>
    private static async Task<(int ExitCode, string? Output)> Git(string git, string directory, CancellationToken cancellationToken, params string[] args)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return (-1, null);
        }

        // The build's environment without the remote cache's credentials and signing key: git has no use for them.
        var startInfo = ChildProcess.StartInfo(git, directory);
        // Never take index.lock nor write a refreshed index: the user's own git may be running (git-config(1)).
        startInfo.Environment["GIT_OPTIONAL_LOCKS"] = "0";
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(startInfo);
            if (process is null)
            {
                return (-1, null);
            }

            var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            _ = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return (-1, null);
            }

            return (process.ExitCode, await output.ConfigureAwait(false));
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException)
        {
            return (-1, null);
        }
    }
}

/// <summary>
/// A commit lookup running beside a run's steps (<see cref="GitCommit.Start"/>). Disposing it kills git if it is
/// still running.
/// </summary>
public sealed class GitCommitLookup : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task<string?> _answer;

    internal GitCommitLookup(string directory, string git)
    {
        var stop = _stop.Token;
        // Task.Run: even starting a process (fork, exec) stays off the thread that starts the first step.
        _answer = Task.Run(() => GitCommit.OfCleanCheckoutAsync(directory, git, stop));
    }

    /// <summary>
    /// The answer, waiting at most <paramref name="grace"/> for it: (the commit or null, true), or (null, false)
    /// when git had not answered by then, in which case git is stopped.
    /// </summary>
    public async Task<(string? Commit, bool Answered)> CollectAsync(TimeSpan grace)
    {
        // Real time, not the run's clock: this bounds a real process.
        if (await Task.WhenAny(_answer, Task.Delay(grace)).ConfigureAwait(false) == _answer)
        {
            return (await _answer.ConfigureAwait(false), true);
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        return (null, false);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
