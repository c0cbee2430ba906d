using MLPipelines.Engine.Hashing;

namespace MLPipelines.Engine.Store;

/// <summary>What a housekeeping operation removed.</summary>
/// <param name="Young">Unreferenced objects left because they are younger than <see cref="CacheStore.ObjectGrace"/>.</param>
public sealed record HousekeepingReport(int Entries, int Objects, long Bytes, int Young = 0)
{
    public override string ToString() =>
        $"{Entries} entr{(Entries == 1 ? "y" : "ies")}, {Objects} object{(Objects == 1 ? "" : "s")}, {FormatBytes(Bytes)} removed" +
        (Young == 0 ? "" : $" ({Young} unreferenced object{(Young == 1 ? "" : "s")} younger than {CacheStore.ObjectGrace.TotalHours:0} h left for a later collection)");

    public static string FormatBytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KB"),
        < 1024L * 1024 * 1024 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MB"),
        _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.00} GB"),
    };

    public static HousekeepingReport operator +(HousekeepingReport a, HousekeepingReport b) =>
        new(a.Entries + b.Entries, a.Objects + b.Objects, a.Bytes + b.Bytes, a.Young + b.Young);
}

/// <summary>
/// Clearing, pruning and garbage collection, in git's way: what to keep is decided in one short write transaction,
/// files are deleted outside it (a walk of <c>objects/</c> never holds up another build's writes), and no object
/// younger than <see cref="ObjectGrace"/> is deleted, so an object a build has just written, or found and freshened,
/// survives until its entry is recorded. Leased objects (a restore in progress) are kept too. <see cref="RecordEntry"/>
/// checks its objects inside its own transaction: an entry never points at an object that is gone.
/// </summary>
public sealed partial class CacheStore
{
    /// <summary>How long a restore's lease protects its objects if its build dies without releasing it.</summary>
    public static readonly TimeSpan LeaseLifetime = TimeSpan.FromHours(1);

    // Leftovers in objects/tmp younger than this may belong to a build that is writing them right now.
    private static readonly TimeSpan TempFileGrace = TimeSpan.FromHours(1);

    /// <summary>
    /// An unreferenced object whose file is younger than this (by modification time) is not collected (git's
    /// <c>gc.pruneExpire</c>). A build writes a step's objects, or freshens one that is already there
    /// (<see cref="ObjectStore.Add"/>), before it records the entry naming them; a collection that decided in between
    /// that the object is unreferenced would otherwise delete it under the new entry. An hour is far longer than
    /// capturing one step's outputs takes, and costs at most an hour's worth of unreferenced objects on disk.
    /// </summary>
    public static readonly TimeSpan ObjectGrace = TimeSpan.FromHours(1);

    /// <summary>Test seam: called with each object's path just before a collection deletes it (outside any transaction).</summary>
    internal Action<string>? ObjectCollecting { get; set; }

    /// <summary>
    /// Deletes the entries of a pipeline (only those of <paramref name="steps"/> when given), then their objects: those
    /// no other entry or lease keeps go at once, whatever their age (an explicit clear is asked to free the space), as
    /// long as no build freshened them after the entries were deleted; other orphans follow <see cref="ObjectGrace"/>.
    /// </summary>
    public HousekeepingReport Clear(string pipeline, IReadOnlyCollection<string> steps, DateTimeOffset now)
    {
        int deleted;
        HashSet<string> released;
        lock (_lock)
        {
            using var tx = _connection.BeginTransaction(deferred: false);
            var where = steps.Count == 0
                ? "pipeline = $pipeline"
                : $"pipeline = $pipeline AND step COLLATE NOCASE IN ({string.Join(", ", steps.Select((_, i) => "$s" + i))})";
            using var cmd = _connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.Parameters.AddWithValue("$pipeline", pipeline);
            foreach (var (step, i) in steps.Select((s, i) => (s, i)))
            {
                cmd.Parameters.AddWithValue("$s" + i, step);
            }

            cmd.CommandText = $"SELECT DISTINCT hash FROM entry_objects WHERE entry_id IN (SELECT id FROM entries WHERE {where})";
            released = ReadStrings(cmd);
            cmd.CommandText = $"DELETE FROM entries WHERE {where}";
            deleted = cmd.ExecuteNonQuery();
            tx.Commit();
        }

        return new HousekeepingReport(deleted, 0, 0) + CollectGarbage(now, released, DateTime.UtcNow);
    }

    /// <summary>
    /// Applies the limits: entries unused for longer than <paramref name="maxAge"/> go, then least recently used
    /// entries until the objects they keep fit in <paramref name="maxSize"/>; then unreferenced objects go.
    /// </summary>
    /// <param name="collectAlways">Scan <c>objects/</c> for orphans even when no entry was removed.</param>
    public HousekeepingReport Prune(DateTimeOffset now, TimeSpan maxAge, long? maxSize, bool collectAlways = true)
    {
        var deleted = 0;
        var released = new HashSet<string>(StringComparer.Ordinal);
        lock (_lock)
        {
            var cutoff = (now - maxAge).ToUnixTimeMilliseconds();
            using (var tx = _connection.BeginTransaction(deferred: false))
            {
                released.UnionWith(ReadStrings("SELECT DISTINCT hash FROM entry_objects WHERE entry_id IN (SELECT id FROM entries WHERE last_used_at < $p0)", tx, cutoff));
                deleted += Execute(_connection, "DELETE FROM entries WHERE last_used_at < $p0", tx, cutoff);
                tx.Commit();
            }

            while (maxSize is { } cap && ReferencedSize() > cap)
            {
                using var tx = _connection.BeginTransaction(deferred: false);
                const string Oldest = "(SELECT id FROM entries ORDER BY last_used_at, id LIMIT 1)";
                released.UnionWith(ReadStrings("SELECT hash FROM entry_objects WHERE entry_id = " + Oldest, tx));
                if (Execute(_connection, "DELETE FROM entries WHERE id = " + Oldest, tx) == 0)
                {
                    break;
                }

                tx.Commit();
                deleted++;
            }
        }

        var report = new HousekeepingReport(deleted, 0, 0);
        if (!(deleted > 0 || collectAlways))
        {
            return report;
        }

        var decided = DateTime.UtcNow;
        ForgetVanishedFiles();
        return report + CollectGarbage(now, released, decided);
    }

    /// <summary>
    /// Drops the hash stamps of files that no longer exist (a dangling link included), so <c>file_stamps</c> does not
    /// grow without end.
    /// </summary>
    private void ForgetVanishedFiles()
    {
        lock (_lock)
        {
            var vanished = new List<string>();
            using (var cmd = _connection.CreateCommand())
            {
                cmd.CommandText = "SELECT path FROM file_stamps";
                using var reader = cmd.ExecuteReader();
                while (reader.Read())
                {
                    if (HasVanished(reader.GetString(0)))
                    {
                        vanished.Add(reader.GetString(0));
                    }
                }
            }

            using var tx = _connection.BeginTransaction(deferred: false);
            foreach (var path in vanished)
            {
                Execute(_connection, "DELETE FROM file_stamps WHERE path = $p0", tx, path);
            }

            tx.Commit();
        }
    }

    // File.Exists says true for a dangling link; the hasher, like open(2), says nothing is there. A file that can
    // no longer be stat'ed is forgotten too: a forgotten stamp costs at most one read.
    private static bool HasVanished(string path)
    {
        try
        {
            return FileIdentity.Of(path) is null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>Total size of the distinct objects that entries refer to.</summary>
    public long ReferencedSize()
    {
        lock (_lock)
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT COALESCE(SUM(size), 0) FROM (SELECT MAX(size) AS size FROM entry_objects GROUP BY hash)";
            return (long)cmd.ExecuteScalar()!;
        }
    }

    /// <summary>
    /// Deletes every object no entry refers to, no live lease protects and that is older than <see cref="ObjectGrace"/>
    /// (orphans of a crash or of removed entries), and stale temporary files. Only the decision of what to keep takes
    /// the write lock; the walk and the deletions run outside it.
    /// </summary>
    public HousekeepingReport CollectGarbage(DateTimeOffset now) => CollectGarbage(now, null, default);

    /// <param name="now">The store's clock: leases expire and the grace period counts from it.</param>
    /// <param name="released">
    /// Objects of entries this operation has just deleted: they go even when younger than the grace period, unless
    /// their file was modified after <paramref name="decidedAtUtc"/> (wall clock, as file times are), when a build
    /// found and freshened them and may be recording an entry naming them. The grace period exists for objects
    /// written before their entry; these had one.
    /// </param>
    private HousekeepingReport CollectGarbage(DateTimeOffset now, HashSet<string>? released, DateTime decidedAtUtc)
    {
        HashSet<string> keep;
        lock (_lock)
        {
            using var tx = _connection.BeginTransaction(deferred: false);
            Execute(_connection, "DELETE FROM object_leases WHERE expires_at <= $p0", tx, now.ToUnixTimeMilliseconds());
            keep = ReadStrings("SELECT hash FROM entry_objects UNION SELECT hash FROM object_leases", tx);
            tx.Commit();
        }

        // Anything modified after this is younger than the grace period: a build may be about to record it.
        var youngSince = now.UtcDateTime - ObjectGrace;
        int objects = 0, young = 0;
        long bytes = 0;
        foreach (var file in System.IO.Directory.EnumerateFiles(Objects.Root, "*", SearchOption.AllDirectories))
        {
            var info = new FileInfo(file);
            if (!info.Exists)
            {
                continue; // Gone since the listing: another collection took it.
            }

            if (Path.GetFileName(info.DirectoryName) == "tmp")
            {
                if (now.UtcDateTime - info.LastWriteTimeUtc > TempFileGrace)
                {
                    ObjectStore.TryDelete(file);
                }

                continue;
            }

            if (keep.Contains(info.Name))
            {
                continue;
            }

            var since = released?.Contains(info.Name) == true ? decidedAtUtc : youngSince;
            if (info.LastWriteTimeUtc > since)
            {
                young++;
                continue;
            }

            var size = info.Length;
            ObjectCollecting?.Invoke(file);
            if (Objects.Collect(file, since))
            {
                objects++;
                bytes += size;
                if (objects == 1)
                {
                    CrashPoint.Reach(CrashPoint.CollectPartial);
                }
            }
        }

        return new HousekeepingReport(0, objects, bytes, young);
    }

    /// <summary>
    /// Protects an entry's objects from garbage collection while a build restores them. False when the entry is
    /// gone (cleared or pruned by another build since it was found): the step then executes instead.
    /// </summary>
    public bool TryLease(CacheEntry entry, string holder, DateTimeOffset now)
    {
        lock (_lock)
        {
            using var tx = _connection.BeginTransaction(deferred: false);
            if (Execute(_connection, "UPDATE entries SET last_used_at = $p1 WHERE key = $p0", tx, entry.Key, now.ToUnixTimeMilliseconds()) == 0)
            {
                return false;
            }

            foreach (var hash in entry.Manifest.Select(f => f.Hash).Distinct())
            {
                Execute(_connection, "INSERT OR REPLACE INTO object_leases (hash, holder, expires_at) VALUES ($p0, $p1, $p2)", tx,
                    hash, holder, (now + LeaseLifetime).ToUnixTimeMilliseconds());
            }

            tx.Commit();
            return true;
        }
    }

    public void ReleaseLeases(string holder)
    {
        lock (_lock)
        {
            Execute(_connection, "DELETE FROM object_leases WHERE holder = $p0", null, holder);
        }
    }

    /// <summary>
    /// True, and the mark set to now, when the named mark is older than <paramref name="interval"/> (or absent):
    /// lets periodic work run once per interval across every build sharing the store.
    /// </summary>
    public bool MarkDue(string name, DateTimeOffset now, TimeSpan interval)
    {
        lock (_lock)
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT value FROM meta WHERE name = $name";
            cmd.Parameters.AddWithValue("$name", "mark:" + name);
            bool NotDue() =>
                cmd.ExecuteScalar() is string text && long.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var last) &&
                now.ToUnixTimeMilliseconds() - last < interval.TotalMilliseconds;

            // Most runs find the mark recent: a plain read, no write lock. When due, it is read again under the write
            // lock, so of two builds that both saw it due only one sets it and gets true.
            if (NotDue())
            {
                return false;
            }

            using var tx = _connection.BeginTransaction(deferred: false);
            cmd.Transaction = tx;
            if (NotDue())
            {
                return false;
            }

            Execute(_connection, "INSERT OR REPLACE INTO meta (name, value) VALUES ($p0, $p1)", tx, "mark:" + name,
                now.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
            tx.Commit();
            return true;
        }
    }

    /// <summary>
    /// The names of the steps of <paramref name="pipeline"/> that have entries, as stored (ordinal order):
    /// <c>ClearPipelineCache</c> may name a step since removed from the project.
    /// </summary>
    public IReadOnlyList<string> StepsWithEntries(string pipeline)
    {
        lock (_lock)
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT DISTINCT step FROM entries WHERE pipeline = $pipeline";
            cmd.Parameters.AddWithValue("$pipeline", pipeline);
            return ReadStrings(cmd).Order(StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>The first column of every row of <paramref name="sql"/>, with <paramref name="args"/> bound as $p0, $p1…</summary>
    private HashSet<string> ReadStrings(string sql, Microsoft.Data.Sqlite.SqliteTransaction tx, params object?[] args)
    {
        using var cmd = _connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        Bind(cmd, args);
        return ReadStrings(cmd);
    }

    private static HashSet<string> ReadStrings(Microsoft.Data.Sqlite.SqliteCommand cmd)
    {
        using var reader = cmd.ExecuteReader();
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read())
        {
            set.Add(reader.GetString(0));
        }

        return set;
    }
}
