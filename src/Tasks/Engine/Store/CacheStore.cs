using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Keys;
using Microsoft.Data.Sqlite;

namespace MLPipelines.Engine.Store;

/// <summary>
/// The store at <c>PipelineCacheDir</c>: the SQLite index <c>cache.db</c> (entries, runs, file stamps) and the
/// content-addressed <c>objects/</c>. WAL mode and a busy timeout let two builds share it; an entry is written only
/// after every object it names is in place, in one transaction, so readers see whole entries or none.
/// </summary>
public sealed partial class CacheStore : IDisposable
{
    private const int SchemaVersion = 3;
    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();

    private CacheStore(string directory, SqliteConnection connection)
    {
        Directory = directory;
        _connection = connection;
        Objects = new ObjectStore(Path.Combine(directory, "objects"));
    }

    public string Directory { get; }

    public ObjectStore Objects { get; }

    public static CacheStore Open(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);

        // The store is never source: keep it out of git status, so it neither shows up nor makes a checkout "dirty".
        var gitignore = Path.Combine(directory, ".gitignore");
        if (!File.Exists(gitignore))
        {
            File.WriteAllText(gitignore, "# Created by MLPipelines.Sdk: the pipeline cache is not source.\n*\n");
        }

        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, "cache.db"),
            // A pooled connection would outlive the build in a reused MSBuild node and keep the file open.
            Pooling = false,
            DefaultTimeout = 60,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
            // The common case, a store of this schema, needs no write transaction to open.
            var reset = !HasCurrentSchema(connection) && CreateSchema(connection, Path.Combine(directory, "objects"));
            return new CacheStore(directory, connection) { WasReset = reset };
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static bool HasCurrentSchema(SqliteConnection connection)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'";
        if (cmd.ExecuteScalar() is null)
        {
            return false;
        }

        cmd.CommandText = "SELECT value FROM meta WHERE name = 'schema'";
        return cmd.ExecuteScalar() is string version && version == SchemaVersion.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>True when the store was made by an engine with another schema and was emptied to be rebuilt.</summary>
    public bool WasReset { get; private set; }

    private static bool CreateSchema(SqliteConnection connection, string objectsDirectory)
    {
        using var tx = connection.BeginTransaction(deferred: false);
        var reset = ResetIfIncompatible(connection, tx, objectsDirectory);
        Execute(connection, """
            CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS entries (
                id INTEGER PRIMARY KEY,
                pipeline TEXT NOT NULL,
                step TEXT NOT NULL,
                key TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL,
                last_used_at INTEGER NOT NULL,
                duration_ms INTEGER NOT NULL,
                total_size INTEGER NOT NULL,
                components TEXT NOT NULL,
                manifest TEXT NOT NULL,
                directories TEXT NOT NULL,
                links TEXT NOT NULL DEFAULT '[]',
                run_id TEXT);
            CREATE INDEX IF NOT EXISTS entries_by_step ON entries (pipeline, step, created_at);
            CREATE TABLE IF NOT EXISTS entry_objects (
                entry_id INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
                hash TEXT NOT NULL,
                size INTEGER NOT NULL,
                PRIMARY KEY (entry_id, hash)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS entry_objects_by_hash ON entry_objects (hash);
            CREATE TABLE IF NOT EXISTS runs (
                id TEXT PRIMARY KEY,
                pipeline TEXT NOT NULL,
                started_at INTEGER NOT NULL,
                ended_at INTEGER,
                status TEXT NOT NULL,
                git_commit TEXT,
                steps_total INTEGER NOT NULL DEFAULT 0,
                steps_cached INTEGER NOT NULL DEFAULT 0,
                steps_executed INTEGER NOT NULL DEFAULT 0,
                steps_failed INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS step_runs (
                run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                step TEXT NOT NULL,
                key TEXT,
                components TEXT,
                outcome TEXT NOT NULL,
                reason TEXT,
                started_at INTEGER NOT NULL,
                duration_ms INTEGER NOT NULL,
                saved_ms INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (run_id, step)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS object_leases (
                hash TEXT NOT NULL,
                holder TEXT NOT NULL,
                expires_at INTEGER NOT NULL,
                PRIMARY KEY (hash, holder)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS file_stamps (
                path TEXT PRIMARY KEY,
                size INTEGER NOT NULL,
                mtime_ns INTEGER NOT NULL,
                ctime_ns INTEGER NOT NULL,
                inode INTEGER NOT NULL,
                device INTEGER NOT NULL,
                link_inode INTEGER NOT NULL,
                link_ctime_ns INTEGER NOT NULL,
                hash TEXT NOT NULL,
                hashed_at_ns INTEGER NOT NULL) WITHOUT ROWID;
            """, tx);
        Execute(connection, $"INSERT OR REPLACE INTO meta (name, value) VALUES ('schema', '{SchemaVersion}')", tx);
        using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT OR IGNORE INTO meta (name, value) VALUES ('secret', $secret)";
            cmd.Parameters.AddWithValue("$secret", Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
        return reset;
    }

    /// <summary>
    /// A store written by an engine with another schema is a cache we cannot read: empty it (tables and objects)
    /// rather than fail or misread it. Runs inside the schema transaction, so one build does it once.
    /// </summary>
    private static bool ResetIfIncompatible(SqliteConnection connection, SqliteTransaction tx, string objectsDirectory)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'";
        if (cmd.ExecuteScalar() is null)
        {
            return false;
        }

        cmd.CommandText = "SELECT value FROM meta WHERE name = 'schema'";
        if (cmd.ExecuteScalar() is string version && version == SchemaVersion.ToString(CultureInfo.InvariantCulture))
        {
            return false;
        }

        Execute(connection, "DROP TABLE IF EXISTS entry_objects; DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS step_runs; DROP TABLE IF EXISTS runs; DROP TABLE IF EXISTS file_stamps; DROP TABLE IF EXISTS object_leases; DELETE FROM meta WHERE name <> 'secret';", tx);
        if (System.IO.Directory.Exists(objectsDirectory))
        {
            System.IO.Directory.Delete(objectsDirectory, recursive: true);
        }

        return true;
    }

    /// <summary>The per-store random key used to hash environment values.</summary>
    public byte[] Secret()
    {
        lock (_lock)
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT value FROM meta WHERE name = 'secret'";
            return Convert.FromHexString((string)cmd.ExecuteScalar()!);
        }
    }

    public CacheEntry? FindEntry(string key) =>
        QueryEntries("WHERE key = $p0", key).FirstOrDefault();

    /// <summary>The newest entry of a step: what a miss is explained against.</summary>
    public CacheEntry? FindNewestEntry(string pipeline, string step) =>
        QueryEntries("WHERE pipeline = $p0 AND step = $p1 ORDER BY created_at DESC, id DESC LIMIT 1", pipeline, step).FirstOrDefault();

    public IReadOnlyList<CacheEntry> AllEntries() => QueryEntries("ORDER BY id");

    /// <summary>
    /// Records an entry, replacing any entry with the same key (a forced or repaired result). Returns false, recording
    /// nothing, when one of its objects is no longer in place (a concurrent prune collected it before the entry
    /// existed): the caller stores the outputs again and retries. The check runs under the write lock that garbage
    /// collection also takes, so an entry never points at a missing object.
    /// </summary>
    public bool RecordEntry(CacheEntry entry)
    {
        lock (_lock)
        {
            using var tx = _connection.BeginTransaction(deferred: false);
            if (entry.Manifest.Any(f => !Objects.Contains(f.Hash)))
            {
                return false;
            }

            Execute(_connection, "DELETE FROM entries WHERE key = $p0", tx, entry.Key);
            using var cmd = _connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO entries (pipeline, step, key, created_at, last_used_at, duration_ms, total_size, components, manifest, directories, links, run_id)
                VALUES ($pipeline, $step, $key, $created, $created, $duration, $size, $components, $manifest, $directories, $links, $run)
                RETURNING id
                """;
            cmd.Parameters.AddWithValue("$pipeline", entry.Pipeline);
            cmd.Parameters.AddWithValue("$step", entry.Step);
            cmd.Parameters.AddWithValue("$key", entry.Key);
            cmd.Parameters.AddWithValue("$created", entry.CreatedAt.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$duration", (long)entry.Duration.TotalMilliseconds);
            cmd.Parameters.AddWithValue("$size", entry.TotalSize);
            cmd.Parameters.AddWithValue("$components", JsonSerializer.Serialize(entry.Components.ToList(), StoreJson.Default.ListKeyComponent));
            cmd.Parameters.AddWithValue("$manifest", JsonSerializer.Serialize(entry.Manifest.ToList(), StoreJson.Default.ListManifestFile));
            cmd.Parameters.AddWithValue("$directories", JsonSerializer.Serialize(entry.Directories.ToList(), StoreJson.Default.ListString));
            cmd.Parameters.AddWithValue("$links", JsonSerializer.Serialize(entry.Links.ToList(), StoreJson.Default.ListManifestLink));
            cmd.Parameters.AddWithValue("$run", (object?)entry.RunId ?? DBNull.Value);
            var id = (long)cmd.ExecuteScalar()!;
            foreach (var file in entry.Manifest.DistinctBy(f => f.Hash))
            {
                Execute(_connection, "INSERT OR IGNORE INTO entry_objects (entry_id, hash, size) VALUES ($p0, $p1, $p2)", tx, id, file.Hash, file.Size);
            }

            tx.Commit();
            return true;
        }
    }

    public void DeleteEntry(string key)
    {
        lock (_lock)
        {
            Execute(_connection, "DELETE FROM entries WHERE key = $p0", null, key);
        }
    }

    public void TouchEntry(string key, DateTimeOffset when)
    {
        lock (_lock)
        {
            Execute(_connection, "UPDATE entries SET last_used_at = $p1 WHERE key = $p0", null, key, when.ToUnixTimeMilliseconds());
        }
    }

    /// <summary>The hash stamps later runs may trust, by full path (see <see cref="FileHasher"/>).</summary>
    public Dictionary<string, FileStamp> LoadFileStamps()
    {
        lock (_lock)
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT path, size, mtime_ns, ctime_ns, inode, device, link_inode, link_ctime_ns, hash, hashed_at_ns FROM file_stamps";
            using var reader = cmd.ExecuteReader();
            var stamps = new Dictionary<string, FileStamp>(StringComparer.Ordinal);
            while (reader.Read())
            {
                // Inodes and devices are unsigned 64-bit; SQLite integers are signed: stored bit for bit.
                var identity = new FileIdentity(
                    reader.GetInt64(1),
                    reader.GetInt64(2),
                    reader.GetInt64(3),
                    unchecked((ulong)reader.GetInt64(4)),
                    unchecked((ulong)reader.GetInt64(5)),
                    unchecked((ulong)reader.GetInt64(6)),
                    reader.GetInt64(7));
                stamps[reader.GetString(0)] = new FileStamp(identity, reader.GetString(8), reader.GetInt64(9));
            }

            return stamps;
        }
    }

    /// <summary>Adds or replaces stamps by path, in one transaction.</summary>
    public void SaveFileStamps(IReadOnlyDictionary<string, FileStamp> stamps)
    {
        if (stamps.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            using var tx = _connection.BeginTransaction(deferred: false);
            using var cmd = _connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT OR REPLACE INTO file_stamps (path, size, mtime_ns, ctime_ns, inode, device, link_inode, link_ctime_ns, hash, hashed_at_ns)
                VALUES ($path, $size, $mtime, $ctime, $inode, $device, $linkInode, $linkCtime, $hash, $hashedAt)
                """;
            var path = cmd.Parameters.Add("$path", SqliteType.Text);
            var size = cmd.Parameters.Add("$size", SqliteType.Integer);
            var mtime = cmd.Parameters.Add("$mtime", SqliteType.Integer);
            var ctime = cmd.Parameters.Add("$ctime", SqliteType.Integer);
            var inode = cmd.Parameters.Add("$inode", SqliteType.Integer);
            var device = cmd.Parameters.Add("$device", SqliteType.Integer);
            var linkInode = cmd.Parameters.Add("$linkInode", SqliteType.Integer);
            var linkCtime = cmd.Parameters.Add("$linkCtime", SqliteType.Integer);
            var hash = cmd.Parameters.Add("$hash", SqliteType.Text);
            var hashedAt = cmd.Parameters.Add("$hashedAt", SqliteType.Integer);
            foreach (var (p, stamp) in stamps)
            {
                var id = stamp.Identity;
                path.Value = p;
                size.Value = id.Size;
                mtime.Value = id.LastWriteUnixNs;
                ctime.Value = id.ChangeUnixNs;
                inode.Value = unchecked((long)id.Inode);
                device.Value = unchecked((long)id.Device);
                linkInode.Value = unchecked((long)id.LinkInode);
                linkCtime.Value = id.LinkChangeUnixNs;
                hash.Value = stamp.Hash;
                hashedAt.Value = stamp.HashedAtUnixNs;
                cmd.ExecuteNonQuery();
            }

            tx.Commit();
        }
    }

    private List<CacheEntry> QueryEntries(string where, params object?[] args)
    {
        lock (_lock)
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT id, pipeline, step, key, created_at, last_used_at, duration_ms, components, manifest, directories, links, run_id FROM entries " + where;
            Bind(cmd, args);
            using var reader = cmd.ExecuteReader();
            var entries = new List<CacheEntry>();
            while (reader.Read())
            {
                entries.Add(ReadEntry(reader));
            }

            return entries;
        }
    }

    // A row can come from anywhere (see OutputRestorer's checks): a value no entry can have, such as a time or duration
    // out of range or a column of another type, makes it corrupt, never an exception of the build.
    private static CacheEntry ReadEntry(SqliteDataReader reader)
    {
        try
        {
            return new CacheEntry
            {
                Id = reader.GetInt64(0),
                Pipeline = reader.GetString(1),
                Step = reader.GetString(2),
                Key = reader.GetString(3),
                CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                LastUsedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                Duration = TimeSpan.FromMilliseconds(reader.GetInt64(6)),
                Components = Deserialize(reader.GetString(7), StoreJson.Default.ListKeyComponent),
                Manifest = Deserialize(reader.GetString(8), StoreJson.Default.ListManifestFile),
                Directories = Deserialize(reader.GetString(9), StoreJson.Default.ListString),
                Links = Deserialize(reader.GetString(10), StoreJson.Default.ListManifestLink),
                RunId = reader.IsDBNull(11) ? null : reader.GetString(11),
            };
        }
        catch (Exception e) when (e is ArgumentException or OverflowException or InvalidCastException or InvalidOperationException or FormatException)
        {
            throw new CorruptEntryException();
        }
    }

    // JSON that cannot be read makes the entry corrupt; the runner treats it as damaged and replaces it.
    private static List<T> Deserialize<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<List<T>> type)
    {
        try
        {
            // StoreJson rejects a null or missing field; a null item ("[null]") is checked here.
            var list = JsonSerializer.Deserialize(json, type);
            return list is null || list.Any(item => item is null) ? throw new CorruptEntryException() : list;
        }
        catch (JsonException)
        {
            throw new CorruptEntryException();
        }
    }

    private static int Execute(SqliteConnection connection, string sql, SqliteTransaction? tx = null, params object?[] args)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        Bind(cmd, args);
        return cmd.ExecuteNonQuery();
    }

    private static void Bind(SqliteCommand cmd, object?[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            cmd.Parameters.AddWithValue("$p" + i.ToString(CultureInfo.InvariantCulture), args[i] ?? DBNull.Value);
        }
    }

    public void Dispose() => _connection.Dispose();
}

/// <summary>An entry row whose stored JSON cannot be read.</summary>
public sealed class CorruptEntryException() : Exception("The cache entry is corrupt.");
