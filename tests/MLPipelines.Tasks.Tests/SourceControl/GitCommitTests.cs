using System.Diagnostics;
using System.Runtime.Versioning;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.SourceControl;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.SourceControl;

/// <summary>
/// The run record's commit (SPEC "Records") is asked of git without making git hash file contents, beside the steps,
/// and only for a bounded time after the last one; a late answer means no commit and a detail line.
/// </summary>
[UnsupportedOSPlatform("windows")] // The git stand-ins are POSIX shell scripts.
public sealed class GitCommitTests : IDisposable
{
    private const string StandInHead = "0123456789abcdef0123456789abcdef01234567";

    /// <summary>The git commands that never refresh the index (see GitCommit's remarks).</summary>
    private static readonly string[] NeverRefreshing = ["rev-parse", "diff-index", "ls-files"];

    private readonly TempDirectory _checkout = new();
    private readonly TempDirectory _standIns = new();

    public void Dispose()
    {
        _checkout.Dispose();
        _standIns.Dispose();
    }

    [Fact]
    public async Task ATouchedBigTrackedFileMeansNoCommitWithoutGitRefreshingOrWritingTheIndex()
    {
        var head = CommitCheckout();
        var big = _checkout.Combine("data/big.bin");
        var index = _checkout.Combine(".git/index");
        var indexBefore = (Convert.ToHexString(File.ReadAllBytes(index)), File.GetLastWriteTimeUtc(index));
        // Same bytes, new stat data: what `touch` or a tool rewriting a file identically does.
        File.SetLastWriteTimeUtc(big, File.GetLastWriteTimeUtc(big).AddHours(-1));
        var log = _checkout.Combine("git-argv.log");
        var git = StandIn("logging-git", $"echo \"$1\" >> '{log}'\nexec git \"$@\"");

        var commit = await GitCommit.OfCleanCheckoutAsync(_checkout.Path, git, CancellationToken.None);

        // Stat-dirty counts as dirty (conservative), decided from stat data alone: only plumbing that never refreshes
        // the index, so never `status`, `diff` or `update-index`, which re-read such a file.
        Assert.Null(commit);
        var asked = File.ReadAllLines(log);
        Assert.NotEmpty(asked);
        Assert.All(asked, command => Assert.Contains(command, NeverRefreshing));
        Assert.Equal(indexBefore, (Convert.ToHexString(File.ReadAllBytes(index)), File.GetLastWriteTimeUtc(index)));

        // The user's own git still works, refreshes its index, and the checkout is tied to its commit again.
        Assert.Equal("", Git("status", "--porcelain", "--untracked-files=all"));
        Assert.Equal(head, await GitCommit.OfCleanCheckoutAsync(_checkout.Path, "git", CancellationToken.None));
    }

    [Fact]
    public async Task AStagedChangeMeansNoCommitAndACleanCheckoutMeansHead()
    {
        var head = CommitCheckout();
        Assert.Equal(head, await GitCommit.OfCleanCheckoutAsync(_checkout.Path, "git", CancellationToken.None));

        _checkout.Write("raw.txt", "staged, not committed\n");
        Git("add", "raw.txt");

        Assert.Null(await GitCommit.OfCleanCheckoutAsync(_checkout.Path, "git", CancellationToken.None));
    }

    [Fact]
    public async Task TheLookupRunsBesideTheFirstStepAndItsAnswerIsRecordedAtTheEnd()
    {
        using var pipeline = new PipelineHarness();
        // The stand-in answers HEAD only once the step has started, and the step ends only once git has answered:
        // a lookup made before the first step would wait for a step that never starts, and record no commit.
        var git = StandIn("waiting-git", $"""
            case "$1" in
              rev-parse) i=0; while [ ! -f started ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; [ -f started ] && echo {StandInHead} ;;
              ls-files) touch answered ;;
            esac
            """);
        pipeline.Step("wait", "touch started; i=0; while [ ! -f answered ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; [ -f answered ]");

        var run = await pipeline.RunAsync(options => options with { GitExecutable = git });

        run.AssertOutcome("wait", StepOutcome.Executed);
        Assert.Equal(StandInHead, LatestCommit(pipeline));
    }

    [Fact]
    public async Task AnAnswerLaterThanTheGraceAfterTheLastStepRecordsNoCommitAndSaysSo()
    {
        using var pipeline = new PipelineHarness();
        var git = StandIn("slow-git", $"sleep 600\necho {StandInHead}");
        pipeline.Step("quick", "true");

        var run = await pipeline.RunAsync(options => options with { GitExecutable = git });

        run.AssertOutcome("quick", StepOutcome.Executed);
        Assert.Null(LatestCommit(pipeline));
        Assert.Contains(run.Log.Details, d => d.Contains("no git commit recorded: git did not answer within 500 ms of the last step", StringComparison.Ordinal));
    }

    private static string? LatestCommit(PipelineHarness pipeline)
    {
        using var store = pipeline.OpenStore();
        return Assert.Single(store.ListRuns(10)).GitCommit;
    }

    /// <summary>A repository at the checkout with a 50 MB tracked file, everything committed; HEAD.</summary>
    private string CommitCheckout()
    {
        _checkout.Write("raw.txt", "raw data\n");
        Directory.CreateDirectory(_checkout.Combine("data"));
        using (var big = File.Create(_checkout.Combine("data/big.bin")))
        {
            big.SetLength(50L << 20);
        }

        _checkout.Write(".gitignore", "git-argv.log\n");
        Git("init", "--quiet");
        Git("config", "user.name", "Unit test");
        Git("config", "user.email", "unit@example.invalid");
        Git("config", "commit.gpgsign", "false");
        Git("add", "--all");
        Git("commit", "--quiet", "-m", "checkout");
        Assert.Equal("", Git("status", "--porcelain", "--untracked-files=all"));
        return Git("rev-parse", "HEAD");
    }

    /// <summary>An executable /bin/sh script outside the checkout and the project, standing in for git.</summary>
    private string StandIn(string name, string body)
    {
        var path = _standIns.Write(name, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private string Git(params string[] arguments)
    {
        var start = new ProcessStartInfo("git", arguments)
        {
            WorkingDirectory = _checkout.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', arguments)} exited with {process.ExitCode}: {stderr.Result}");
        return stdout.Trim();
    }
}
