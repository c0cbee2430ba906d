using System.Collections.Concurrent;

namespace MLPipelines.Engine.Hashing;

/// <summary>What the store remembers of a file it hashed: enough to trust the hash while the file is unchanged.</summary>
public readonly record struct FileStamp(long Size, long LastWriteTicks, string Hash);

/// <summary>
/// Hashes files at most once while they are unchanged: a file whose size and modification time match what was seen
/// before keeps its hash (DVC's lesson: never re-read gigabytes that did not change). Stamps come from the store at
/// the start of a run and go back at its end.
/// </summary>
public sealed class FileHasher
{
    // A file modified within this window of being hashed could change again without its timestamp moving
    // (coarse file system clocks), so such stamps are used for this run only and never persisted.
    private static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, FileStamp> _stamps;
    private readonly ConcurrentDictionary<string, FileStamp> _fresh = new(StringComparer.Ordinal);

    public FileHasher(IReadOnlyDictionary<string, FileStamp>? known = null)
    {
        _stamps = new ConcurrentDictionary<string, FileStamp>(known ?? new Dictionary<string, FileStamp>(), StringComparer.Ordinal);
    }

    /// <summary>How many files were actually read; the rest came from stamps.</summary>
    public int FilesRead => _filesRead;

    private int _filesRead;

    public string Hash(string fullPath)
    {
        var info = new FileInfo(fullPath);
        var size = info.Length;
        var ticks = info.LastWriteTimeUtc.Ticks;
        if (_stamps.TryGetValue(fullPath, out var stamp) && stamp.Size == size && stamp.LastWriteTicks == ticks)
        {
            return stamp.Hash;
        }

        var hash = ContentHash.OfFile(fullPath);
        Interlocked.Increment(ref _filesRead);
        Remember(fullPath, size, ticks, hash);
        return hash;
    }

    /// <summary>Records a hash known some other way (a file just restored from a verified object).</summary>
    public void Remember(string fullPath, long size, long lastWriteTicks, string hash)
    {
        var stamp = new FileStamp(size, lastWriteTicks, hash);
        _stamps[fullPath] = stamp;
        _fresh[fullPath] = stamp;
    }

    /// <summary>Stamps learned in this run that are old enough to be trusted by later runs.</summary>
    public IReadOnlyDictionary<string, FileStamp> StampsToPersist(DateTime utcNow) =>
        _fresh.Where(p => utcNow.Ticks - p.Value.LastWriteTicks > RacyWindow.Ticks)
              .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
}
