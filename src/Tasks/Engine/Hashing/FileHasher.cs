using System.Collections.Concurrent;

namespace MLPipelines.Engine.Hashing;

/// <summary>
/// What the store remembers of a file it hashed: the file's identity, taken before its content was read, the hash
/// of that content, and when the identity was taken (what makes a stamp racy or not).
/// </summary>
/// <param name="Identity">The file's identity, stat'ed before the content was read: a write during the read moves it.</param>
/// <param name="Hash">XxHash128 of the content, 32 lowercase hex digits (<see cref="ContentHash"/>).</param>
/// <param name="HashedAtUnixNs">Wall-clock time just after the identity was taken, ns since 1970-01-01 UTC.</param>
public readonly record struct FileStamp(FileIdentity Identity, string Hash, long HashedAtUnixNs)
{
    /// <summary>
    /// How far back from <see cref="HashedAtUnixNs"/> a change makes a stamp racy. File systems keep times in ticks
    /// as coarse as 2 s (FAT, some SMB servers); a write in the same tick as the stat leaves no trace in it.
    /// </summary>
    public static TimeSpan RacyWindow { get; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Git's racy-git rule: the file was modified or changed within <see cref="RacyWindow"/> before it was stat'ed (or
    /// after), so it may have changed again after the stat without its identity moving. A racy stamp is never
    /// trusted, only kept to be replaced.
    /// </summary>
    public bool IsRacy => Identity.LastChangeUnixNs >= HashedAtUnixNs - (RacyWindow.Ticks * TimeSpan.NanosecondsPerTick);
}

/// <summary>
/// Hashes files at most once while they are unchanged (DVC's lesson: never re-read gigabytes that did not change),
/// and trusts a remembered hash only as git's index and Bazel's digest cache do: every field of the file's
/// <see cref="FileIdentity"/> matches (size, modification and change time to the nanosecond, inode, device, and for a
/// symbolic link the link's own inode and change time), and the stamp was not racy when it was taken. Stamps come
/// from the store at the start of a run and the non-racy ones go back at its end. Safe to call from parallel steps.
/// </summary>
public sealed class FileHasher
{
    private readonly ConcurrentDictionary<string, FileStamp> _stamps;
    private readonly ConcurrentDictionary<string, FileStamp> _fresh = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;
    private int _filesRead;

    /// <param name="known">Stamps of earlier runs by full path (<c>CacheStore.LoadFileStamps</c>).</param>
    /// <param name="clock">The wall clock racy stamps are judged by; the system clock by default.</param>
    public FileHasher(IReadOnlyDictionary<string, FileStamp>? known = null, TimeProvider? clock = null)
    {
        _stamps = new ConcurrentDictionary<string, FileStamp>(known ?? new Dictionary<string, FileStamp>(), StringComparer.Ordinal);
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>How many files were actually read; the rest came from stamps.</summary>
    public int FilesRead => _filesRead;

    /// <summary>
    /// The content hash of a file (a symbolic link is followed): 32 lowercase hex digits. Costs one stat (two for a
    /// link) when the remembered stamp still holds, else that and one sequential read.
    /// </summary>
    /// <param name="fullPath">An absolute path, the same spelling each time (stamps are keyed by it, ordinally).</param>
    /// <exception cref="FileNotFoundException">Nothing is there, it is a directory, or a symbolic link on it dangles.</exception>
    /// <exception cref="UnauthorizedAccessException">The file or a folder on the way may not be read.</exception>
    /// <exception cref="IOException">Any other failure to stat or read.</exception>
    public string Hash(string fullPath)
    {
        var identity = FileIdentity.Of(fullPath) ?? throw new FileNotFoundException($"Could not find file '{fullPath}'.", fullPath);
        if (_stamps.TryGetValue(fullPath, out var stamp) && stamp.Identity == identity && !stamp.IsRacy)
        {
            return stamp.Hash;
        }

        // Taken after the stat: the later the moment, the more stamps count as racy, never fewer.
        var hashedAt = UnixNs(_clock.GetUtcNow());
        var hash = ContentHash.OfFile(fullPath);
        Interlocked.Increment(ref _filesRead);
        Keep(fullPath, new FileStamp(identity, hash, hashedAt));
        return hash;
    }

    /// <summary>
    /// Records a hash learned another way: a file just restored from a verified object, or one hashed while it was
    /// copied into the store. The racy rule applies as to any stamp, judged from now: a file written a moment ago is
    /// used for nothing and read again when next hashed.
    /// </summary>
    /// <param name="fullPath">The file's absolute path, spelled as <see cref="Hash"/> will be asked for it.</param>
    /// <param name="seenBeforeRead">The file's identity taken before the content behind <paramref name="hash"/> was read or written (<see cref="FileIdentity.Of"/>).</param>
    /// <param name="hash">That content's hash (<see cref="ContentHash"/>).</param>
    public void Remember(string fullPath, FileIdentity seenBeforeRead, string hash) =>
        Keep(fullPath, new FileStamp(seenBeforeRead, hash, UnixNs(_clock.GetUtcNow())));

    /// <summary>Stamps learned in this run that later runs may trust: every one that was not racy when taken.</summary>
    public IReadOnlyDictionary<string, FileStamp> StampsToPersist() =>
        _fresh.Where(p => !p.Value.IsRacy).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private void Keep(string fullPath, FileStamp stamp)
    {
        _stamps[fullPath] = stamp;
        _fresh[fullPath] = stamp;
    }

    private static long UnixNs(DateTimeOffset time) => (time.UtcTicks - DateTime.UnixEpoch.Ticks) * TimeSpan.NanosecondsPerTick;
}
