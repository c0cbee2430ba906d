using System.Diagnostics;
using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// One build of a project's pipeline at a time (SPEC "Change detection"). Two holders in this process stand for two
/// builds (the OS lock is per open file, so it holds between them too); release on death is shown with a real second
/// process that takes the same flock and is then killed with SIGKILL.
/// </summary>
public sealed class PipelineLockTests : IDisposable
{
    // Bounds, not timing assertions: how long a loaded machine may take to notice a freed lock or a cancellation.
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);

    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    private string Store => _root.Combine("store");

    private PipelineOptions Options(string project = "project", string pipeline = "iris", double timeoutSeconds = 86400) => new()
    {
        PipelineName = pipeline,
        ProjectDirectory = _root.Subdirectory(project),
        CacheDirectory = Store,
        LockTimeout = TimeSpan.FromSeconds(timeoutSeconds),
    };

    private static string Waiting(int? process = null) =>
        process is null ? "Waiting for another build of pipeline iris…" : $"Waiting for another build of pipeline iris (process {process})…";

    private static async Task<PipelineLock> Take(PipelineOptions options) =>
        await PipelineLock.AcquireAsync(options, new RecordingLog(), CancellationToken.None) ?? throw new InvalidOperationException("Not taken.");

    [Fact]
    public async Task ASecondBuildWaitsSaysSoOnceAndGoesOnWhenTheFirstEnds()
    {
        var first = await Take(Options());
        var log = new RecordingLog();

        var second = PipelineLock.AcquireAsync(Options(), log, CancellationToken.None);
        await Task.Delay(PipelineLock.PollInterval * 4);

        Assert.False(second.IsCompleted, "The second build did not wait.\n" + log);
        Assert.Equal([Waiting(Environment.ProcessId)], log.Messages);
        first.Dispose();
        using var taken = await second.WaitAsync(Prompt);
        Assert.NotNull(taken);
        Assert.Empty(log.Errors);
        Assert.Equal([Waiting(Environment.ProcessId)], log.Messages);
    }

    [Fact]
    public async Task AfterTheTimeoutItIsMLP3005AndNothingIsTaken()
    {
        using var first = await Take(Options());
        var log = new RecordingLog();

        var second = await PipelineLock.AcquireAsync(Options(timeoutSeconds: 0.5), log, CancellationToken.None);

        Assert.Null(second);
        var error = Assert.Single(log.Errors);
        Assert.Equal((ErrorCodes.PipelineLockTimeout, null), (error.Code, error.Step));
        Assert.Equal(
            $"Another build of pipeline iris (process {Environment.ProcessId}) is still running in this project directory after PipelineLockTimeout (00:00:00.5000000) " +
            "of waiting, so this build ran no step. Let it finish and build again, or raise PipelineLockTimeout.",
            error.Message);
        Assert.Equal([Waiting(Environment.ProcessId)], log.Messages);
    }

    [Fact]
    public async Task AZeroTimeoutFailsAtOnceWithoutWaiting()
    {
        using var first = await Take(Options());
        var log = new RecordingLog();

        Assert.Null(await PipelineLock.AcquireAsync(Options(timeoutSeconds: 0), log, CancellationToken.None));

        Assert.Equal(ErrorCodes.PipelineLockTimeout, Assert.Single(log.Errors).Code);
        Assert.Empty(log.Messages);
    }

    [Fact]
    public async Task CancellationEndsTheWaitAtOnce()
    {
        using var first = await Take(Options());
        using var cancel = new CancellationTokenSource();
        var log = new RecordingLog();

        var second = PipelineLock.AcquireAsync(Options(), log, cancel.Token);
        await Task.Delay(PipelineLock.PollInterval * 2);
        var stopwatch = Stopwatch.StartNew();
        await cancel.CancelAsync();

        Assert.Null(await second.WaitAsync(Prompt));
        Assert.True(stopwatch.Elapsed < PipelineLock.PollInterval * 3, $"The wait went on for {stopwatch.Elapsed} after the cancellation.");
        Assert.Empty(log.Errors);
        Assert.Equal([Waiting(Environment.ProcessId), "Stopped waiting for another build of pipeline iris: the build was cancelled."], log.Messages);
    }

    [Fact]
    public async Task OtherProjectsSharingTheStoreAndOtherPipelinesAreNotBlocked()
    {
        using var first = await Take(Options());
        var log = new RecordingLog();

        using var otherProject = await PipelineLock.AcquireAsync(Options(project: "other"), log, CancellationToken.None);
        using var otherPipeline = await PipelineLock.AcquireAsync(Options(pipeline: "wine"), log, CancellationToken.None);

        Assert.NotNull(otherProject);
        Assert.NotNull(otherPipeline);
        Assert.Empty(log.Messages);
    }

    [Fact]
    public void TheLockFileIsInTheStoreAndNamedByProjectAndPipeline()
    {
        var project = _root.Subdirectory("project");
        var path = PipelineLock.PathOf(Store, project, "iris");

        Assert.Matches("^[0-9a-f]{32}\\.lock$", Path.GetFileName(path));
        Assert.Equal(Path.Combine(Store, "locks"), Path.GetDirectoryName(path));
        Assert.Equal(path, PipelineLock.PathOf(Store, project + Path.DirectorySeparatorChar, "iris"));
        Assert.Equal(path, PipelineLock.PathOf(Store, Path.Combine(project, "sub", ".."), "iris"));
        Assert.NotEqual(path, PipelineLock.PathOf(Store, _root.Subdirectory("other"), "iris"));
        Assert.NotEqual(path, PipelineLock.PathOf(Store, project, "wine"));
    }

    [Fact]
    public async Task TheHolderWritesItsProcessIdAndRemovesItOnReleaseButKeepsTheLockFile()
    {
        var lockFile = PipelineLock.PathOf(Store, _root.Subdirectory("project"), "iris");

        using (await Take(Options()))
        {
            Assert.Equal(Environment.ProcessId, PipelineLock.HolderOf(lockFile));
        }

        Assert.Null(PipelineLock.HolderOf(lockFile));
        Assert.True(File.Exists(lockFile));
        using var again = PipelineLock.TryAcquire(lockFile);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task ALockHeldByAProcessThatIsKilledIsFreedAndTheWaiterTakesIt()
    {
        // util-linux flock takes flock(2), as .NET does for FileShare.None: the child shows both that the two exclude
        // each other across processes and that the OS frees the lock of a process killed without a chance to let go.
        if (OperatingSystem.IsWindows() || FindOnPath("flock") is null)
        {
            return;
        }

        var lockFile = PipelineLock.PathOf(Store, _root.Subdirectory("project"), "iris");
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!);
        // sh opens fd 9, flock locks it, and sh becomes sleep with fd 9 still open: one process holds the lock.
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-c", "exec 9>>\"$0\" && flock -x 9 && echo locked && exec sleep 60", lockFile })
        {
            start.ArgumentList.Add(argument);
        }

        using var holder = Process.Start(start)!;
        try
        {
            Assert.Equal("locked", await holder.StandardOutput.ReadLineAsync().WaitAsync(Prompt));
            Assert.Null(PipelineLock.TryAcquire(lockFile));
            var log = new RecordingLog();
            var waiter = PipelineLock.AcquireAsync(Options(), log, CancellationToken.None);
            await Task.Delay(PipelineLock.PollInterval * 3);
            Assert.False(waiter.IsCompleted, "The waiter took a lock another process holds.\n" + log);

            holder.Kill(); // SIGKILL: the holder cannot release anything itself.

            using var taken = await waiter.WaitAsync(Prompt);
            Assert.NotNull(taken);
            // The child wrote no holder file, so the waiter could not name it.
            Assert.Equal([Waiting()], log.Messages);
        }
        finally
        {
            if (!holder.HasExited)
            {
                holder.Kill();
            }

            await holder.WaitForExitAsync();
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}
