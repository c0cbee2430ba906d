using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>
/// Reads (and, for tests that age entries, edits) a pipeline store the way a user with <c>sqlite3</c> could:
/// the rows of <c>cache.db</c> (entries, entry_objects, runs, step_runs, file_stamps) and the files of <c>objects/</c>.
/// Every call opens its own unpooled connection and closes it, so no file stays open while a build runs.
/// </summary>
public sealed class StoreInspector
{
    public StoreInspector(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Directory = directory;
    }

    /// <summary>The store folder (<c>PipelineCacheDir</c>).</summary>
    public string Directory { get; }

    public string DatabasePath => Path.Combine(Directory, "cache.db");

    public string ObjectsDirectory => Path.Combine(Directory, "objects");

    /// <summary>The default store of a workspace's project: <c>.mlpipelines/</c>.</summary>
    public static StoreInspector Of(Workspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return new StoreInspector(workspace.GetPath(".mlpipelines"));
    }

    /// <summary>Every entry, oldest id first.</summary>
    public IReadOnlyList<EntryRow> Entries() => Query(
        "SELECT id, pipeline, step, key, created_at, last_used_at, duration_ms, total_size, manifest, run_id FROM entries ORDER BY id",
        r => new EntryRow(
            r.GetInt64(0),
            r.GetString(1),
            r.GetString(2),
            r.GetString(3),
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)),
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
            r.GetInt64(6),
            r.GetInt64(7),
            ParseManifest(r.GetString(8)),
            r.IsDBNull(9) ? null : r.GetString(9)));

    /// <summary>The one entry of <paramref name="step"/>; fails when there is none or more than one.</summary>
    public EntryRow Entry(string step)
    {
        List<EntryRow> entries = Entries().Where(e => e.Step == step).ToList();
        Assert.True(entries.Count == 1, $"Expected one entry of step {step}, found {entries.Count}.\n{Describe()}");
        return entries[0];
    }

    /// <summary>Every entry of <paramref name="step"/>, oldest id first.</summary>
    public IReadOnlyList<EntryRow> Entries(string step) => Entries().Where(e => e.Step == step).ToList();

    /// <summary>The step names that have entries, sorted.</summary>
    public IReadOnlyList<string> EntrySteps() => Entries().Select(e => e.Step).Order(StringComparer.Ordinal).ToList();

    public IReadOnlyList<EntryObjectRow> EntryObjects() => Query(
        "SELECT entry_id, hash, size FROM entry_objects ORDER BY entry_id, hash",
        r => new EntryObjectRow(r.GetInt64(0), r.GetString(1), r.GetInt64(2)));

    /// <summary>The hashes of the objects the entries of <paramref name="step"/> refer to (rows of entry_objects).</summary>
    public IReadOnlyList<string> EntryObjectHashes(string step) => Query(
        "SELECT o.hash FROM entry_objects o JOIN entries e ON e.id = o.entry_id WHERE e.step = $p0",
        r => r.GetString(0),
        step);

    /// <summary>The files whose content hash the store remembers (table file_stamps), '/' separated, sorted.</summary>
    public IReadOnlyList<string> FileStampPaths() => Query(
        "SELECT path FROM file_stamps ORDER BY path",
        r => r.GetString(0).Replace('\\', '/'));

    /// <summary>The names of the tables of cache.db.</summary>
    public IReadOnlyList<string> TableNames() => Query(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        r => r.GetString(0));

    /// <summary>Every recorded run, newest first (the order ListPipelineRuns shows).</summary>
    public IReadOnlyList<RunRow> Runs() => Query(
        """
        SELECT id, pipeline, started_at, ended_at, status, git_commit, steps_total, steps_cached, steps_executed, steps_failed
        FROM runs ORDER BY started_at DESC, rowid DESC
        """,
        r => new RunRow(
            r.GetString(0),
            r.GetString(1),
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(2)),
            r.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)),
            r.GetString(4),
            r.IsDBNull(5) ? null : r.GetString(5),
            r.GetInt32(6),
            r.GetInt32(7),
            r.GetInt32(8),
            r.GetInt32(9)));

    /// <summary>The newest run; fails when none is recorded.</summary>
    public RunRow LatestRun()
    {
        IReadOnlyList<RunRow> runs = Runs();
        Assert.True(runs.Count > 0, $"No run is recorded in {DatabasePath}.");
        return runs[0];
    }

    /// <summary>The step runs of one run, by step name.</summary>
    public IReadOnlyDictionary<string, StepRunRow> StepRuns(string runId) => Query(
            // A step run refers to its key components, stored once in key_components.
            "SELECT s.run_id, s.step, s.key, COALESCE(k.components, s.components), s.outcome, s.reason, s.duration_ms, s.saved_ms FROM step_runs s LEFT JOIN key_components k ON k.hash = s.components_hash WHERE s.run_id = $p0",
            r => new StepRunRow(
                r.GetString(0),
                r.GetString(1),
                r.IsDBNull(2) ? null : r.GetString(2),
                r.IsDBNull(3) ? null : r.GetString(3),
                r.GetString(4),
                r.IsDBNull(5) ? null : r.GetString(5),
                r.GetInt64(6),
                r.GetInt64(7)),
            runId)
        .ToDictionary(s => s.Step, StringComparer.Ordinal);

    /// <summary>
    /// The remote cache's counters of the newest run (schema 5): steps restored from the remote cache
    /// (<c>runs.remote_hits</c>) and entries uploaded (<c>runs.remote_uploads</c>).
    /// </summary>
    public (int RemoteHits, int RemoteUploads) LatestRunRemoteCounts() => Query(
            "SELECT remote_hits, remote_uploads FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1",
            r => (r.GetInt32(0), r.GetInt32(1)))
        .Single();

    /// <summary>Where each step of a run got its result from (<c>step_runs.source</c>: <c>remote</c>, or null), by step name.</summary>
    public IReadOnlyDictionary<string, string?> StepSources(string runId) => Query(
            "SELECT step, source FROM step_runs WHERE run_id = $p0",
            r => (Step: r.GetString(0), Source: r.IsDBNull(1) ? null : r.GetString(1)),
            runId)
        .ToDictionary(s => s.Step, s => s.Source, StringComparer.Ordinal);

    /// <summary>Sets <c>last_used_at</c> of every entry of <paramref name="step"/> (unix milliseconds in the table).</summary>
    public StoreInspector SetLastUsed(string step, DateTimeOffset when)
    {
        int changed = Execute("UPDATE entries SET last_used_at = $p0 WHERE step = $p1", when.ToUnixTimeMilliseconds(), step);
        Assert.True(changed > 0, $"No entry of step {step} to set last_used_at on.\n{Describe()}");
        return this;
    }

    /// <summary>Sets <c>duration_ms</c> of every entry of <paramref name="step"/>: what a later hit reports as time saved.</summary>
    public StoreInspector SetDuration(string step, TimeSpan duration)
    {
        int changed = Execute("UPDATE entries SET duration_ms = $p0 WHERE step = $p1", (long)duration.TotalMilliseconds, step);
        Assert.True(changed > 0, $"No entry of step {step} to set duration_ms on.\n{Describe()}");
        return this;
    }

    /// <summary>Moves <c>created_at</c> of every entry of <paramref name="step"/> back by <paramref name="age"/>.</summary>
    public StoreInspector AgeEntries(string step, TimeSpan age)
    {
        int changed = Execute("UPDATE entries SET created_at = created_at - $p0 WHERE step = $p1", (long)age.TotalMilliseconds, step);
        Assert.True(changed > 0, $"No entry of step {step} to age.\n{Describe()}");
        return this;
    }

    /// <summary>Runs one SQL statement with <c>$p0</c>, <c>$p1</c>… bound to <paramref name="args"/>; returns the changed row count.</summary>
    /// <summary>
    /// Sets every object file's modification time <paramref name="age"/> back, so a collection takes those no entry
    /// refers to (the store spares unreferenced objects younger than an hour: a build may be about to record them).
    /// </summary>
    public StoreInspector AgeObjects(TimeSpan age)
    {
        foreach (string file in ObjectFiles())
        {
            File.SetLastWriteTimeUtc(Path.Combine(ObjectsDirectory, file), DateTime.UtcNow - age);
        }

        return this;
    }

    public int Execute(string sql, params object?[] args)
    {
        using SqliteConnection connection = Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        Bind(command, args);
        return command.ExecuteNonQuery();
    }

    /// <summary>The bytes of every file of the store but <c>objects/</c> (cache.db and any -wal/-shm next to it).</summary>
    public IEnumerable<(string File, byte[] Bytes)> DatabaseFiles() =>
        System.IO.Directory.EnumerateFiles(Directory, "cache.db*")
            .Select(file => (file, File.ReadAllBytes(file)));

    /// <summary>Every object file (<c>objects/??/*</c>), relative to <c>objects/</c> with '/' separators; <c>objects/tmp</c> is left out.</summary>
    public IReadOnlyList<string> ObjectFiles()
    {
        if (!System.IO.Directory.Exists(ObjectsDirectory))
        {
            return [];
        }

        return System.IO.Directory.EnumerateFiles(ObjectsDirectory, "*", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(ObjectsDirectory, file).Replace('\\', '/'))
            .Where(file => !file.StartsWith("tmp/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The path of the object named <paramref name="hash"/>: <c>objects/ab/abcdef…</c>.</summary>
    public string ObjectPath(string hash) => Path.Combine(ObjectsDirectory, hash[..2], hash);

    /// <summary>
    /// The store invariant: cache.db and objects/ agree. Every entry_objects row belongs to an entry and names an
    /// object file of its size; every object file (outside objects/tmp) sits at objects/&lt;first 2 chars&gt;/&lt;hash&gt;
    /// and has an entry_objects row; every entry's manifest names exactly the objects its entry_objects rows list.
    /// </summary>
    public void AssertConsistent()
    {
        Assert.True(File.Exists(DatabasePath), $"No store at {DatabasePath}.");
        var problems = new List<string>();
        IReadOnlyList<EntryRow> entries = Entries();
        IReadOnlyList<EntryObjectRow> rows = EntryObjects();
        var entryIds = entries.Select(e => e.Id).ToHashSet();

        foreach (EntryObjectRow row in rows)
        {
            if (!entryIds.Contains(row.EntryId))
            {
                problems.Add($"entry_objects row ({row.EntryId}, {row.Hash}) belongs to no entry");
            }

            var file = new FileInfo(ObjectPath(row.Hash));
            if (!file.Exists)
            {
                problems.Add($"entry_objects row ({row.EntryId}, {row.Hash}) points to a missing object file");
            }
            else if (file.Length != row.Size)
            {
                problems.Add($"object {row.Hash} has {file.Length} bytes, entry_objects says {row.Size}");
            }
        }

        var referenced = rows.Select(r => r.Hash).ToHashSet(StringComparer.Ordinal);
        foreach (string file in ObjectFiles())
        {
            string[] parts = file.Split('/');
            if (parts.Length != 2 || !parts[1].StartsWith(parts[0], StringComparison.Ordinal))
            {
                problems.Add($"objects/{file} is not at objects/<first 2 characters>/<hash>");
            }
            else if (!referenced.Contains(parts[1]))
            {
                problems.Add($"objects/{file} has no entry_objects row");
            }
        }

        foreach (EntryRow entry in entries)
        {
            var listed = rows.Where(r => r.EntryId == entry.Id).Select(r => r.Hash).ToHashSet(StringComparer.Ordinal);
            var named = entry.Manifest.Select(m => m.Hash).ToHashSet(StringComparer.Ordinal);
            if (!listed.SetEquals(named))
            {
                problems.Add($"entry {entry.Id} ({entry.Step}) names objects [{string.Join(", ", named)}] in its manifest but [{string.Join(", ", listed)}] in entry_objects");
            }
        }

        Assert.True(problems.Count == 0, $"The store at {Directory} is inconsistent:\n  {string.Join("\n  ", problems)}\n{Describe()}");
    }

    /// <summary>The entries and object files, for assertion messages.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append("Entries:\n");
        foreach (EntryRow entry in Entries())
        {
            text.Append($"  {entry.Id} {entry.Pipeline}/{entry.Step} key={entry.Key[..Math.Min(12, entry.Key.Length)]} last_used={entry.LastUsedAt:O} size={entry.TotalSize} objects=[{string.Join(", ", entry.Manifest.Select(m => m.Hash))}]\n");
        }

        text.Append("Object files:\n");
        foreach (string file in ObjectFiles())
        {
            text.Append($"  {file} ({new FileInfo(Path.Combine(ObjectsDirectory, file)).Length} B)\n");
        }

        return text.ToString();
    }

    private List<T> Query<T>(string sql, Func<SqliteDataReader, T> read, params object?[] args)
    {
        using SqliteConnection connection = Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        Bind(command, args);
        using SqliteDataReader reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private SqliteConnection Open()
    {
        Assert.True(File.Exists(DatabasePath), $"No store at {DatabasePath}.");
        var builder = new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false, DefaultTimeout = 60 };
        var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        using SqliteCommand busy = connection.CreateCommand();
        // A build may hold the write lock for a moment (a concurrent test): wait for it as the engine does.
        busy.CommandText = "PRAGMA busy_timeout = 30000";
        busy.ExecuteNonQuery();
        return connection;
    }

    private static void Bind(SqliteCommand command, object?[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            command.Parameters.AddWithValue("$p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), args[i] ?? DBNull.Value);
        }
    }

    private static List<ManifestRow> ParseManifest(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateArray()
            .Select(file => new ManifestRow(
                file.GetProperty("path").GetString()!,
                file.GetProperty("hash").GetString()!,
                file.GetProperty("size").GetInt64()))
            .ToList();
    }
}

/// <summary>A row of <c>entries</c>; <see cref="Manifest"/> is its manifest JSON, parsed.</summary>
public sealed record EntryRow(
    long Id,
    string Pipeline,
    string Step,
    string Key,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUsedAt,
    long DurationMs,
    long TotalSize,
    IReadOnlyList<ManifestRow> Manifest,
    string? RunId);

/// <summary>One output file of an entry's manifest.</summary>
public sealed record ManifestRow(string Path, string Hash, long Size);

/// <summary>A row of <c>entry_objects</c>: an entry refers to an object.</summary>
public sealed record EntryObjectRow(long EntryId, string Hash, long Size);

/// <summary>A row of <c>runs</c>.</summary>
public sealed record RunRow(
    string Id,
    string Pipeline,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string Status,
    string? GitCommit,
    int StepsTotal,
    int StepsCached,
    int StepsExecuted,
    int StepsFailed);

/// <summary>A row of <c>step_runs</c>.</summary>
public sealed record StepRunRow(
    string RunId,
    string Step,
    string? Key,
    string? Components,
    string Outcome,
    string? Reason,
    long DurationMs,
    long SavedMs);
