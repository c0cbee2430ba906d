using System.Diagnostics;
using System.Globalization;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// Makes the builds of one project's pipeline take turns (SPEC "Change detection": two builds of one project's pipeline
/// never run at once), so two builds never execute the same step at once and store an interleaved output.
/// <para>
/// The lock is <c>&lt;store&gt;/locks/&lt;hash&gt;.lock</c> opened with <see cref="FileShare.None"/>: a sharing mode on
/// Windows; on Unix .NET takes <c>flock(LOCK_EX | LOCK_NB)</c> for it (the same lock the <c>flock</c> tool takes, which
/// the tests rely on). Either way the operating system drops it when the process ends, however it ends (crash,
/// <c>kill -9</c>), so no stale lock is ever left to clean up. .NET's switch <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c>
/// turns the <c>flock</c>, and so this lock, off.
/// </para>
/// <para>
/// The hash is of the project directory and the pipeline name: other projects sharing the store are not blocked. The
/// holder writes its process id to <c>&lt;hash&gt;.holder</c>, so that a waiting build can say whom it waits for.
/// </para>
/// </summary>
public sealed class PipelineLock : IDisposable
{
    /// <summary>How often a waiting build tries again: a lock is taken at most this long after it is freed.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    private readonly FileStream _handle;
    private readonly string _holderFile;

    private PipelineLock(FileStream handle, string holderFile)
    {
        _handle = handle;
        _holderFile = holderFile;
    }

    /// <summary>
    /// The lock file of a project's pipeline: <c>&lt;storeDirectory&gt;/locks/&lt;32 hex digits&gt;.lock</c>, the digits
    /// a hash of the full project directory (case-folded where paths are case-insensitive) and the pipeline name.
    /// </summary>
    public static string PathOf(string storeDirectory, string projectDirectory, string pipelineName)
    {
        var directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(projectDirectory));
        if (ProjectPath.PathComparison == StringComparison.OrdinalIgnoreCase)
        {
            directory = directory.ToUpperInvariant();
        }

        return Path.Combine(storeDirectory, "locks", ContentHash.OfText(directory + "\n" + pipelineName) + ".lock");
    }

    /// <summary>
    /// One attempt at <paramref name="lockFile"/> (its folder is created): the lock, or null when another holder has
    /// it. Other I/O failures (a read-only store) throw <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>.
    /// </summary>
    public static PipelineLock? TryAcquire(string lockFile)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(lockFile)!);
        FileStream handle;
        try
        {
            // Never deleted: a build that unlinked it on release could leave a waiter locking the old file while a
            // newcomer locks a new one at the same path. The file is empty and tiny.
            handle = new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (IsHeldElsewhere(e))
        {
            return null;
        }

        var holderFile = HolderFileOf(lockFile);
        try
        {
            // Through a temporary name, so that a waiting build reads a whole process id or none.
            var temp = $"{holderFile}.{Environment.ProcessId}.tmp";
            File.WriteAllText(temp, string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}\n"));
            File.Move(temp, holderFile, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only the waiting message needs it: a waiter then says it waits, without a process id.
        }

        return new PipelineLock(handle, holderFile);
    }

    /// <summary>The process id the current holder of <paramref name="lockFile"/> wrote, when there is one to read.</summary>
    public static int? HolderOf(string lockFile)
    {
        try
        {
            var text = File.ReadAllText(HolderFileOf(lockFile)).Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Takes <paramref name="lockFile"/>, trying again every <see cref="PollInterval"/> until <paramref name="timeout"/>
    /// has passed (zero: one attempt). <paramref name="onWaiting"/> is called once, when the build starts to wait, with
    /// the holder's process id if known. Null on timeout; <see cref="OperationCanceledException"/> as soon as
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public static async Task<PipelineLock?> AcquireAsync(string lockFile, TimeSpan timeout, Action<int?> onWaiting, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onWaiting);
        var waited = Stopwatch.StartNew();
        var announced = false;
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryAcquire(lockFile) is { } taken)
            {
                return taken;
            }

            // A new holder writes its id just after taking the lock: give it one poll before saying "waiting" without it.
            var holder = HolderOf(lockFile);
            var left = timeout - waited.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            if (!announced && (holder is not null || attempt > 0))
            {
                onWaiting(holder);
                announced = true;
            }

            await Task.Delay(left < PollInterval ? left : PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes the lock of <paramref name="options"/>' pipeline for <c>RunPipeline</c>, waiting up to
    /// <see cref="PipelineOptions.LockTimeout"/>. Says once that it waits (a high-importance message); null, with the
    /// reason logged, when it timed out (MLP3005), was cancelled, or the lock file cannot be opened (MLP3001).
    /// </summary>
    public static async Task<PipelineLock?> AcquireAsync(PipelineOptions options, IPipelineLog log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var name = options.PipelineName;
        var lockFile = PathOf(options.CacheDirectory, options.ProjectDirectory, name);
        var clock = Stopwatch.StartNew();
        try
        {
            var taken = await AcquireAsync(lockFile, options.LockTimeout,
                holder => log.Message($"Waiting for another build of pipeline {name}{ByProcess(holder)}…"), cancellationToken).ConfigureAwait(false);
            if (taken is null)
            {
                log.Error(new(ErrorCodes.PipelineLockTimeout, null,
                    $"Another build of pipeline {name}{ByProcess(HolderOf(lockFile))} is still running in this project directory after PipelineLockTimeout " +
                    $"({options.LockTimeout.ToString("c", CultureInfo.InvariantCulture)}) of waiting, so this build ran no step. Let it finish and build again, or raise PipelineLockTimeout."));
                return null;
            }

            log.Detail($"Took the lock of pipeline {name} ({lockFile}) in {clock.ElapsedMilliseconds} ms.");
            return taken;
        }
        catch (OperationCanceledException)
        {
            log.Message($"Stopped waiting for another build of pipeline {name}: the build was cancelled.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Error(new(ErrorCodes.StoreUnavailable, null,
                $"The lock of pipeline {name} cannot be taken in the pipeline cache at '{options.CacheDirectory}' ({e.Message}). Check that the folder is writable, or point PipelineCacheDir elsewhere."));
        }

        return null;
    }

    /// <summary>Lets the next build in: the holder file goes first, so no waiter names a process that has let go.</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(_holderFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The next holder overwrites it.
        }

        _handle.Dispose();
    }

    private static string HolderFileOf(string lockFile) => Path.ChangeExtension(lockFile, ".holder");

    private static string ByProcess(int? holder) => holder is null ? "" : string.Create(CultureInfo.InvariantCulture, $" (process {holder})");

    /// <summary>
    /// What a lock held by someone else looks like: on Windows a sharing or lock violation (HRESULT codes 32, 33); on
    /// Unix .NET reports flock's EWOULDBLOCK with the errno as HResult (11 on Linux, 35 on macOS and the BSDs).
    /// Anything else is a real I/O failure and is not waited out.
    /// </summary>
    private static bool IsHeldElsewhere(IOException e) =>
        e.GetType() == typeof(IOException) &&
        (OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 32 or 33 : e.HResult is 11 or 35);
}
