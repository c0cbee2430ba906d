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
    /// <summary>
    /// The schema this engine reads and writes (meta row <c>schema</c>). 4: step runs refer to their key components in
    /// <c>key_components</c> (stored once per distinct list) by <c>components_hash</c> instead of a copy each in
    /// <c>components</c>, which this engine no longer writes but still reads (an engine of schema 3 writing copies
    /// there is read correctly, so <see cref="MinWriterSchemaVersion"/> stays 3). 5: runs count their remote hits and
    /// uploads and keep the versions of the declared tools, and a step run says where a hit came from: new columns with
    /// defaults, so older engines write on and a store of schema 4 is upgraded in place
    /// (<see cref="UpgradableFromSchema"/>). 6: an entry may keep its step's log as an object (<c>entries.log_hash</c>,
    /// also listed in <c>entry_objects</c> so every engine's collection keeps it), and a step run keeps the parameters
    /// it ran with and the metrics it reported (<c>step_runs.parameters</c>, <c>step_runs.metrics</c>: JSON objects),
    /// and a run counts its cacheable steps for the hit rate (<c>runs.steps_cacheable</c>); nullable columns again,
    /// so engines of schema 3 to 5 write on.
    /// </summary>
    public const int SchemaVersion = 6;

    /// <summary>
    /// The oldest schema upgraded in place (columns added) instead of emptied: every change since only added what an
    /// older writer's statements fill with defaults.
    /// </summary>
    public const int UpgradableFromSchema = 4;

    /// <summary>
    /// The oldest engine schema that may write a store this engine made (meta row <c>min_writer_schema</c>). Raise it
    /// with <see cref="SchemaVersion"/> when an older engine would misread or damage the new layout; leave it when
    /// the change is one older engines can live with (a new table they ignore), so they keep sharing the store.
    /// </summary>
    public const int MinWriterSchemaVersion = 3;

    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();
    private readonly string? _scratch;

    private CacheStore(string directory, SqliteConnection connection, string objectsDirectory, string? scratch = null)
    {
        Directory = directory;
        _connection = connection;
        _scratch = scratch;
        Objects = new ObjectStore(objectsDirectory);
    }

    public string Directory { get; }

    public ObjectStore Objects { get; }

    /// <summary>True when the store was made by an engine with an older schema and was emptied to be rebuilt.</summary>
    public bool WasReset { get; private set; }

    /// <summary>
    /// The schema of the store at <see cref="Directory"/> when an engine newer than this one wrote it and does not let
    /// this one write it; null otherwise. Such a store is left exactly as it is: this instance is a scratch store (an
    /// in-memory index and a temporary <c>objects/</c>, deleted on dispose) that never hits, so a run executes every
    /// step and records nothing where the newer engine would see it.
    /// </summary>
    public int? NewerSchema { get; private init; }

    /// <summary>The file system <see cref="Directory"/> lies on, as <see cref="Open"/> judged it.</summary>
    public FileSystemKind FileSystem { get; private init; }

    /// <summary>
    /// Opens (creating if needed) the store in <paramref name="directory"/>. A store of an older schema is emptied
    /// (<see cref="WasReset"/>); one that a newer engine wrote and forbids this one to write is not touched at all
    /// (<see cref="NewerSchema"/>).
    /// </summary>
    /// <exception cref="SqliteException">cache.db is not a database, or cannot be opened.</exception>
    /// <exception cref="IOException">The folder cannot be created or written.</exception>
    public static CacheStore Open(string directory, StoreSettings? settings = null)
    {
        settings ??= new StoreSettings();
        CreateStoreDirectory(directory);

        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, "cache.db"),
            // A pooled connection would outlive the build in a reused MSBuild node and keep the file open.
            Pooling = false,
            // Microsoft.Data.Sqlite retries a busy statement until this many seconds pass, on top of SQLite's own
            // busy_timeout: both get the same budget, so a busy store costs at most about twice the timeout.
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(settings.BusyTimeout.TotalSeconds)),
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            Execute(connection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {(long)settings.BusyTimeout.TotalMilliseconds};"));

            // Read before anything is written: a store of a newer engine must stay byte for byte what it was (SPEC:
            // "A store written by a newer engine is never changed by an older one"), so not even the journal mode.
            var found = ReadSchema(connection, null);
            if (found is not null && found.Schema > settings.SchemaVersion && found.MinWriter > settings.SchemaVersion)
            {
                connection.Dispose();
                return OpenScratch(directory, found.Schema);
            }

            var fileSystem = settings.FileSystem ?? FileSystems.KindOf(directory);
            UseJournal(connection, fileSystem);
            Execute(connection, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");

            // The store is never source: keep it out of git status, so it neither shows up nor makes a checkout "dirty".
            var gitignore = Path.Combine(directory, ".gitignore");
            if (!File.Exists(gitignore))
            {
                File.WriteAllText(gitignore, "# Created by MLPipelines.Sdk: the pipeline cache is not source.\n*\n");
            }

            // The common case, a store of this schema (or a newer one that lets us write), needs no write transaction
            // and no second look: a schema only ever grows, and CreateSchema reads it again under its write lock.
            var state = found is not null && found.Schema >= settings.SchemaVersion
                ? new SchemaState.Unchanged()
                : CreateSchema(connection, Path.Combine(directory, "objects"), settings);
            if (state is SchemaState.Newer { Schema: var newer })
            {
                connection.Dispose(); // A newer engine upgraded it between our look and our transaction.
                return OpenScratch(directory, newer);
            }

            return new CacheStore(directory, connection, Path.Combine(directory, "objects")) { WasReset = state is SchemaState.Reset, FileSystem = fileSystem };
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Makes later statements wait at most <paramref name="wait"/> for another build's write lock (SQLite's
    /// <c>busy_timeout</c> and the command timeout alike), instead of <see cref="StoreSettings.BusyTimeout"/>.
    /// </summary>
    public void LimitBusyWait(TimeSpan wait)
    {
        lock (_lock)
        {
            _connection.DefaultTimeout = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            Execute(_connection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA busy_timeout = {(long)wait.TotalMilliseconds};"));
        }
    }

    /// <summary>The milliseconds statements now wait for another build's write lock (SQLite's <c>busy_timeout</c>).</summary>
    public long BusyWaitMilliseconds
    {
        get
        {
            lock (_lock)
            {
                using var cmd = _connection.CreateCommand();
                cmd.CommandText = "PRAGMA busy_timeout";
                return (long)cmd.ExecuteScalar()!;
            }
        }
    }

    /// <summary>
    /// Creates the store's folder when it does not exist, closed to users outside its owner's group (mode
    /// <c>0770</c>, less the umask): <c>cache.db</c> holds the secret that environment values are hashed with, and
    /// objects hold outputs. Group access follows the umask, so a store shared by a team (umask <c>002</c>, or a
    /// folder prepared with group rights) keeps working. An existing folder's mode is left as it is: never widened.
    /// </summary>
    private static void CreateStoreDirectory(string directory)
    {
        if (OperatingSystem.IsWindows() || System.IO.Directory.Exists(directory))
        {
            System.IO.Directory.CreateDirectory(directory);
            return;
        }

        System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute);
    }

    /// <summary>
    /// SQLite's WAL needs shared memory that a network file system does not give (sqlite.org/wal.html, "WAL does not
    /// work over a network filesystem"): there the rollback journal is used, as SQLite itself advises.
    /// </summary>
    private static void UseJournal(SqliteConnection connection, FileSystemKind fileSystem)
    {
        var mode = fileSystem == FileSystemKind.Network ? "DELETE" : "WAL";
        try
        {
            Execute(connection, $"PRAGMA journal_mode = {mode};");
        }
        catch (SqliteException e) when (IsBusy(e))
        {
            // Leaving WAL needs the only connection; another build has it open and the mode stays what it was.
        }
    }

    /// <summary>
    /// For a store whose newer schema forbids this engine to write: an in-memory index and a temporary objects
    /// folder that nothing ever reads a hit from. The store in <paramref name="directory"/> is not touched.
    /// </summary>
    private static CacheStore OpenScratch(string directory, int newerSchema)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "mlpipelines-uncached-" + Guid.NewGuid().ToString("N"));
        var connection = new SqliteConnection("Data Source=:memory:;Pooling=False");
        try
        {
            connection.Open();
            Execute(connection, "PRAGMA foreign_keys = ON;");
            CreateSchema(connection, Path.Combine(scratch, "objects"), new StoreSettings());
            return new CacheStore(directory, connection, Path.Combine(scratch, "objects"), scratch) { NewerSchema = newerSchema, FileSystem = FileSystemKind.Local };
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private sealed record StoredSchema(int Schema, int MinWriter);

    /// <summary>The schema rows of <c>meta</c>; null when there is no meta table (a new store). An unreadable
    /// version counts as 0 (older than any engine): such a store is emptied, as a store of an older schema.</summary>
    private static StoredSchema? ReadSchema(SqliteConnection connection, SqliteTransaction? tx)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'";
        if (cmd.ExecuteScalar() is null)
        {
            return null;
        }

        // Both rows in one statement: every open runs this.
        int? schema = null, minWriter = null;
        cmd.CommandText = "SELECT name, value FROM meta WHERE name IN ('schema', 'min_writer_schema')";
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                var value = reader.GetValue(1) is string text && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : (int?)null;
                if (reader.GetString(0) == "schema")
                {
                    schema = value;
                }
                else
                {
                    minWriter = value;
                }
            }
        }

        // A store from before min_writer_schema existed was made by an engine that let only its own schema write.
        return new StoredSchema(schema ?? 0, minWriter ?? schema ?? 0);
    }

    private abstract record SchemaState
    {
        public sealed record Unchanged : SchemaState;
        public sealed record Created : SchemaState;
        public sealed record Reset : SchemaState;
        public sealed record Newer(int Schema) : SchemaState;
    }

    private static SchemaState CreateSchema(SqliteConnection connection, string objectsDirectory, StoreSettings settings)
    {
        using var tx = connection.BeginTransaction(deferred: false);
        // Looked at again under the write lock: another build may have made or upgraded the store meanwhile.
        var found = ReadSchema(connection, tx);
        if (found is not null && found.Schema >= settings.SchemaVersion)
        {
            return found.Schema > settings.SchemaVersion && found.MinWriter > settings.SchemaVersion ? new SchemaState.Newer(found.Schema) : new SchemaState.Unchanged();
        }

        var reset = found is not null && found.Schema < UpgradableFromSchema && ResetOlder(connection, tx, objectsDirectory);
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
                steps_failed INTEGER NOT NULL DEFAULT 0,
                remote_hits INTEGER NOT NULL DEFAULT 0,
                remote_uploads INTEGER NOT NULL DEFAULT 0,
                tools TEXT);
            CREATE TABLE IF NOT EXISTS step_runs (
                run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                step TEXT NOT NULL,
                key TEXT,
                components TEXT,
                components_hash TEXT,
                outcome TEXT NOT NULL,
                reason TEXT,
                started_at INTEGER NOT NULL,
                duration_ms INTEGER NOT NULL,
                saved_ms INTEGER NOT NULL DEFAULT 0,
                source TEXT,
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
        Execute(connection, KeyComponentsSchema, tx);
        // A store of an upgradable schema had its tables already: CREATE TABLE IF NOT EXISTS left them as they were.
        AddColumn(connection, tx, "runs", "remote_hits", "INTEGER NOT NULL DEFAULT 0");
        AddColumn(connection, tx, "runs", "remote_uploads", "INTEGER NOT NULL DEFAULT 0");
        AddColumn(connection, tx, "runs", "tools", "TEXT");
        AddColumn(connection, tx, "step_runs", "source", "TEXT");
        AddColumn(connection, tx, "entries", "log_hash", "TEXT");
        AddColumn(connection, tx, "step_runs", "parameters", "TEXT");
        AddColumn(connection, tx, "step_runs", "metrics", "TEXT");
        // Issue 11: the steps whose cache was on, which the hit rate counts; null in runs older engines recorded.
        AddColumn(connection, tx, "runs", "steps_cacheable", "INTEGER");
        Execute(connection, "INSERT OR REPLACE INTO meta (name, value) VALUES ('schema', $p0), ('min_writer_schema', $p1)", tx,
            settings.SchemaVersion.ToString(CultureInfo.InvariantCulture), settings.MinWriterSchemaVersion.ToString(CultureInfo.InvariantCulture));
        using (var cmd = connection.CreateCommand())
        {
            cmd.Transaction = tx;
            cmd.CommandText = "INSERT OR IGNORE INTO meta (name, value) VALUES ('secret', $secret)";
            cmd.Parameters.AddWithValue("$secret", Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
        return reset ? new SchemaState.Reset() : new SchemaState.Created();
    }

    /// <summary>Adds a column with its default unless the table has it (SQLite has no ADD COLUMN IF NOT EXISTS).</summary>
    private static void AddColumn(SqliteConnection connection, SqliteTransaction tx, string table, string column, string definition)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"SELECT 1 FROM pragma_table_info('{table}') WHERE name = '{column}'";
        if (cmd.ExecuteScalar() is null)
        {
            Execute(connection, $"ALTER TABLE {table} ADD COLUMN {column} {definition}", tx);
        }
    }

    /// <summary>
    /// A store of an older schema is a cache we cannot read: empty it (tables and objects) rather than fail or
    /// misread it. Runs inside the schema transaction, so one build does it once. Never called for a newer store.
    /// </summary>
    private static bool ResetOlder(SqliteConnection connection, SqliteTransaction tx, string objectsDirectory)
    {
        Execute(connection, "DROP TABLE IF EXISTS entry_objects; DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS step_runs; DROP TABLE IF EXISTS key_components; DROP TABLE IF EXISTS runs; DROP TABLE IF EXISTS file_stamps; DROP TABLE IF EXISTS object_leases; DELETE FROM meta WHERE name <> 'secret';", tx);
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

    // FindEntry's statement, prepared once and reused (under _lock) for every step's lookup: SQLite compiles a statement
    // on first use, which cost a hit more than running it (issue 9).
    private SqliteCommand? _findEntry;

    public CacheEntry? FindEntry(string key)
    {
        lock (_lock)
        {
            if (_findEntry is null)
            {
                _findEntry = _connection.CreateCommand();
                _findEntry.CommandText = EntryColumns + "WHERE key = $key";
                _findEntry.Parameters.Add("$key", SqliteType.Text);
            }

            _findEntry.CommandTimeout = _connection.DefaultTimeout; // LimitBusyWait may have shortened it since.
            _findEntry.Parameters[0].Value = key;
            using var reader = _findEntry.ExecuteReader();
            return reader.Read() ? ReadEntry(reader) : null;
        }
    }

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
            if (entry.Manifest.Any(f => !Objects.Contains(f.Hash)) || (entry.LogHash is { } log && !Objects.Contains(log)))
            {
                return false;
            }

            var id = NextEntryId(tx);
            Execute(_connection, "DELETE FROM entries WHERE key = $p0", tx, entry.Key);
            using var cmd = _connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = """
                INSERT INTO entries (id, pipeline, step, key, created_at, last_used_at, duration_ms, total_size, components, manifest, directories, links, run_id, log_hash)
                VALUES ($id, $pipeline, $step, $key, $created, $created, $duration, $size, $components, $manifest, $directories, $links, $run, $log)
                """;
            cmd.Parameters.AddWithValue("$log", (object?)entry.LogHash ?? DBNull.Value);
            cmd.Parameters.AddWithValue("$id", id);
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
            cmd.ExecuteNonQuery();
            foreach (var file in entry.Manifest.DistinctBy(f => f.Hash))
            {
                Execute(_connection, "INSERT OR IGNORE INTO entry_objects (entry_id, hash, size) VALUES ($p0, $p1, $p2)", tx, id, file.Hash, file.Size);
            }

            // Listed like an output's object, so every engine's collection (schema 6 and older) keeps the log too.
            if (entry.LogHash is { } logHash)
            {
                Execute(_connection, "INSERT OR IGNORE INTO entry_objects (entry_id, hash, size) VALUES ($p0, $p1, $p2)", tx, id, logHash, entry.LogSize);
            }

            tx.Commit();
            return true;
        }
    }

    /// <summary>
    /// A row id no entry of this store ever had, SQLite's AUTOINCREMENT rule: <see cref="DeleteEntry"/> deletes by id,
    /// so an entry that replaces a deleted one must never get its id. A plain rowid is the largest plus one, which
    /// comes back once the largest is deleted. Kept in <c>meta</c> (<c>last_entry_id</c>) rather than by
    /// AUTOINCREMENT so stores of this schema need no rebuild; an older engine's rows (largest plus one) are
    /// stepped over.
    /// </summary>
    private long NextEntryId(SqliteTransaction tx)
    {
        using var cmd = _connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = """
            INSERT INTO meta (name, value) VALUES ('last_entry_id', (SELECT COALESCE(MAX(id), 0) + 1 FROM entries))
            ON CONFLICT (name) DO UPDATE SET value = MAX(CAST(value AS INTEGER), (SELECT COALESCE(MAX(id), 0) FROM entries)) + 1
            RETURNING CAST(value AS INTEGER)
            """;
        return (long)cmd.ExecuteScalar()!;
    }

    /// <summary>
    /// Deletes one entry by its row id (<see cref="CacheEntry.Id"/>), the one a build found damaged. Never by key: a
    /// concurrent build may have replaced the entry of that key with a fresh one meanwhile, and that one must stay.
    /// </summary>
    public void DeleteEntry(long id)
    {
        lock (_lock)
        {
            Execute(_connection, "DELETE FROM entries WHERE id = $p0", null, id);
        }
    }

    public void TouchEntry(string key, DateTimeOffset when) => TouchEntries([key], when);

    /// <summary>
    /// Sets the last-use time of every entry of <paramref name="keys"/> (keys no entry has are skipped) in one write
    /// transaction: a run's hits are marked used with one commit instead of one per step (issue 9), since each commit
    /// of SQLite's WAL costs a write and a lock round trip.
    /// </summary>
    public void TouchEntries(IReadOnlyCollection<string> keys, DateTimeOffset when)
    {
        if (keys.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            using var tx = _connection.BeginTransaction(deferred: false);
            using var cmd = _connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = "UPDATE entries SET last_used_at = $when WHERE key = $key";
            var key = cmd.Parameters.Add("$key", SqliteType.Text);
            cmd.Parameters.AddWithValue("$when", when.ToUnixTimeMilliseconds());
            foreach (var k in keys)
            {
                key.Value = k;
                cmd.ExecuteNonQuery();
            }

            tx.Commit();
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

    // The log's size is its entry_objects row's (a primary-key lookup): entries has no column of its own for it.
    private const string EntryColumns = "SELECT id, pipeline, step, key, created_at, last_used_at, duration_ms, components, manifest, directories, links, run_id, log_hash, " +
        "(SELECT size FROM entry_objects WHERE entry_id = entries.id AND hash = entries.log_hash) FROM entries ";

    private List<CacheEntry> QueryEntries(string where, params object?[] args)
    {
        lock (_lock)
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = EntryColumns + where;
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
        var id = reader.GetInt64(0); // INTEGER PRIMARY KEY: always an integer.
        try
        {
            return new CacheEntry
            {
                Id = id,
                Pipeline = reader.GetString(1),
                Step = reader.GetString(2),
                Key = reader.GetString(3),
                CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                LastUsedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                Duration = TimeSpan.FromMilliseconds(reader.GetInt64(6)),
                Components = Deserialize(id, reader.GetString(7), StoreJson.Default.ListKeyComponent),
                Manifest = Deserialize(id, reader.GetString(8), StoreJson.Default.ListManifestFile),
                Directories = Deserialize(id, reader.GetString(9), StoreJson.Default.ListString),
                Links = Deserialize(id, reader.GetString(10), StoreJson.Default.ListManifestLink),
                RunId = reader.IsDBNull(11) ? null : reader.GetString(11),
                // A row can come from anywhere: a log hash that names no object could climb out of objects/.
                LogHash = reader.IsDBNull(12) ? null : ObjectStore.IsValidHash(reader.GetString(12)) ? reader.GetString(12) : throw new FormatException("log_hash"),
                LogSize = reader.IsDBNull(13) ? 0 : reader.GetInt64(13),
            };
        }
        catch (Exception e) when (e is ArgumentException or OverflowException or InvalidCastException or InvalidOperationException or FormatException)
        {
            throw new CorruptEntryException(id);
        }
    }

    // JSON that cannot be read makes the entry corrupt; the runner treats it as damaged and replaces it.
    private static List<T> Deserialize<T>(long id, string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<List<T>> type)
    {
        try
        {
            // StoreJson rejects a null or missing field; a null item ("[null]") is checked here.
            var list = JsonSerializer.Deserialize(json, type);
            return list is null || list.Any(item => item is null) ? throw new CorruptEntryException(id) : list;
        }
        catch (JsonException)
        {
            throw new CorruptEntryException(id);
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

    /// <summary>True for SQLite's "database is busy" and "table is locked" (codes 5 and 6): another connection holds the
    /// write lock longer than the busy timeout.</summary>
    public static bool IsBusy(SqliteException e) => e.SqliteErrorCode is 5 or 6;

    public void Dispose()
    {
        _findEntry?.Dispose();
        _connection.Dispose();
        if (_scratch is not null)
        {
            try
            {
                System.IO.Directory.Delete(_scratch, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A temporary folder; the system's temp cleaning takes what is left.
            }
        }
    }
}

/// <summary>An entry row whose stored JSON cannot be read; <see cref="EntryId"/> is its row id, to delete it by.</summary>
public sealed class CorruptEntryException(long entryId) : Exception("The cache entry is corrupt.")
{
    public long EntryId { get; } = entryId;
}
