using System.Text.Json;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Keys;

namespace MLPipelines.Engine.Store;

/// <summary>A pipeline run as recorded in <c>cache.db</c>.</summary>
public sealed record RunRecord(string Id, string Pipeline, DateTimeOffset StartedAt, string Status, string? GitCommit)
{
    public DateTimeOffset? EndedAt { get; init; }
    public int StepsCached { get; init; }
    public int StepsExecuted { get; init; }
    public int StepsFailed { get; init; }
    public int StepsTotal { get; init; }

    /// <summary>
    /// Steps whose cache was on in this run, hits included: what the hit rate counts (<c>HitRate</c>). A run recorded
    /// by an engine from before this count (column <c>steps_cacheable</c> null) reads as all of <see cref="StepsTotal"/>,
    /// the rule it was shown with then.
    /// </summary>
    public int StepsCacheable { get; init; }

    /// <summary>What the cache hits of this run saved: the recorded durations of the runs that produced the reused entries.</summary>
    public TimeSpan TimeSaved { get; init; }

    /// <summary>Steps of this run restored from the remote cache (<c>PipelineRemoteCache</c>); counted among <see cref="StepsCached"/>.</summary>
    public int RemoteHits { get; init; }

    /// <summary>Entries this run uploaded to the remote cache.</summary>
    public int RemoteUploads { get; init; }

    /// <summary>The declared tools' versions as this run found them (<c>PipelineTool</c>), by tool name; null when none were declared.</summary>
    public IReadOnlyDictionary<string, string>? Tools { get; init; }
}

/// <summary>One step of a recorded run. <see cref="Saved"/> is the producing run's duration for a cache hit.</summary>
public sealed record StepRunRecord(string Step, string? Key, IReadOnlyList<KeyComponent>? Components, string Outcome, string? Reason, DateTimeOffset StartedAt, TimeSpan Duration)
{
    public TimeSpan Saved { get; init; }

    /// <summary>A cache hit whose entry came from the remote cache (column <c>source</c> = <c>remote</c>).</summary>
    public bool Remote { get; init; }

    /// <summary>Whether the step's cache was on in the run (counted into <c>runs.steps_cacheable</c>); a hit always is.</summary>
    public bool Cacheable { get; init; } = true;

    /// <summary>The parameters the step had in the run, by name (column <c>parameters</c>, a JSON object of strings); null when none were recorded.</summary>
    public IReadOnlyDictionary<string, string>? Parameters { get; init; }

    /// <summary>Its metrics in the run, by name (column <c>metrics</c>, a JSON object of numbers); null when none were recorded.</summary>
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
}

public sealed partial class CacheStore
{
    /// <summary>
    /// <c>PipelineRunHistoryLimit</c>'s default: runs kept per pipeline. A thousand runs are months of CI builds or
    /// a long sweep of experiments, and cost little with key components stored once per distinct list.
    /// </summary>
    public const int DefaultRunHistoryLimit = 1000;

    /// <summary>
    /// Each distinct list of key components once, named by the XxHash128 of its JSON: a run that hits a step with
    /// 5,000 inputs refers to the list its earlier runs stored instead of adding another copy. Rows no step run refers
    /// to go when runs are pruned (<see cref="PruneRuns"/>).
    /// </summary>
    private const string KeyComponentsSchema = """
        CREATE TABLE IF NOT EXISTS key_components (
            hash TEXT PRIMARY KEY,
            components TEXT NOT NULL) WITHOUT ROWID;
        """;

    public void StartRun(RunRecord run)
    {
        lock (_lock)
        {
            Execute(_connection, "INSERT INTO runs (id, pipeline, started_at, status, git_commit) VALUES ($p0, $p1, $p2, $p3, $p4)", null,
                run.Id, run.Pipeline, run.StartedAt.ToUnixTimeMilliseconds(), run.Status, run.GitCommit);
        }
    }

    public void FinishRun(RunRecord run, IReadOnlyList<StepRunRecord> steps)
    {
        lock (_lock)
        {
            using var tx = _connection.BeginTransaction(deferred: false);
            // A run pruned while it ran (another build's age limit, on a run of days) is recorded again, not lost.
            Execute(_connection, "INSERT OR IGNORE INTO runs (id, pipeline, started_at, status, git_commit) VALUES ($p0, $p1, $p2, $p3, $p4)", tx,
                run.Id, run.Pipeline, run.StartedAt.ToUnixTimeMilliseconds(), run.Status, run.GitCommit);
            Execute(_connection, """
                UPDATE runs SET ended_at = $p1, status = $p2, steps_total = $p3, steps_cached = $p4, steps_executed = $p5, steps_failed = $p6, git_commit = $p7,
                    remote_hits = $p8, remote_uploads = $p9, tools = $p10, steps_cacheable = $p11
                WHERE id = $p0
                """, tx, run.Id, run.EndedAt?.ToUnixTimeMilliseconds(), run.Status, steps.Count,
                steps.Count(s => s.Outcome == "cached"), steps.Count(s => s.Outcome == "executed"), steps.Count(s => s.Outcome == "failed"), run.GitCommit,
                steps.Count(s => s.Outcome == "cached" && s.Remote), run.RemoteUploads,
                run.Tools is null ? null : JsonSerializer.Serialize(new SortedDictionary<string, string>(run.Tools.ToDictionary(), StringComparer.Ordinal), StoreJson.Default.SortedDictionaryStringString),
                steps.Count(s => s.Cacheable || s.Outcome == "cached"));
            // One prepared statement each for every step's rows, rebound per step: compiling them once per step cost
            // a no-op of 200 steps 400 compilations (issue 9).
            using var stepRun = _connection.CreateCommand();
            stepRun.Transaction = tx;
            stepRun.CommandText = """
                INSERT OR REPLACE INTO step_runs (run_id, step, key, components_hash, outcome, reason, started_at, duration_ms, saved_ms, source, parameters, metrics)
                VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, $p9, $p10, $p11)
                """;
            using var components = _connection.CreateCommand();
            components.Transaction = tx;
            components.CommandText = "INSERT OR IGNORE INTO key_components (hash, components) VALUES ($p0, $p1)";
            foreach (var s in steps)
            {
                Rebind(stepRun, run.Id, s.Step, s.Key, s.Components is null ? null : StoreKeyComponents(s.Components, components),
                    s.Outcome, s.Reason, s.StartedAt.ToUnixTimeMilliseconds(), (long)s.Duration.TotalMilliseconds, (long)s.Saved.TotalMilliseconds,
                    s.Remote ? "remote" : null,
                    s.Parameters is null ? null : JsonSerializer.Serialize(new SortedDictionary<string, string>(s.Parameters.ToDictionary(), StringComparer.Ordinal), StoreJson.Default.SortedDictionaryStringString),
                    s.Metrics is null ? null : JsonSerializer.Serialize(new SortedDictionary<string, double>(s.Metrics.ToDictionary(), StringComparer.Ordinal), StoreJson.Default.SortedDictionaryStringDouble));
                stepRun.ExecuteNonQuery();
            }

            tx.Commit();
        }
    }

    /// <summary>Recent runs, newest first.</summary>
    public IReadOnlyList<RunRecord> ListRuns(int limit, string? pipeline = null) =>
        QueryRuns("$p0 IS NULL OR r.pipeline = $p0", limit, pipeline);

    /// <summary>The runs matching <paramref name="where"/> (over <c>runs r</c>, arguments <c>$p0</c>…), newest first, at most <paramref name="limit"/>.</summary>
    private List<RunRecord> QueryRuns(string where, int limit, params object?[] args)
    {
        lock (_lock)
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = $"""
                SELECT r.id, r.pipeline, r.started_at, r.ended_at, r.status, r.git_commit, r.steps_total, r.steps_cached, r.steps_executed, r.steps_failed,
                       (SELECT COALESCE(SUM(saved_ms), 0) FROM step_runs s WHERE s.run_id = r.id), r.remote_hits, r.remote_uploads, r.tools,
                       COALESCE(r.steps_cacheable, r.steps_total)
                FROM runs r
                WHERE {where}
                ORDER BY r.started_at DESC, r.rowid DESC
                LIMIT $limit
                """;
            Bind(cmd, args);
            cmd.Parameters.AddWithValue("$limit", limit);
            using var reader = cmd.ExecuteReader();
            var runs = new List<RunRecord>();
            while (reader.Read())
            {
                runs.Add(new RunRecord(reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                    reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5))
                {
                    EndedAt = reader.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                    StepsTotal = reader.GetInt32(6),
                    StepsCached = reader.GetInt32(7),
                    StepsExecuted = reader.GetInt32(8),
                    StepsFailed = reader.GetInt32(9),
                    TimeSaved = TimeSpan.FromMilliseconds(reader.GetInt64(10)),
                    RemoteHits = reader.GetInt32(11),
                    RemoteUploads = reader.GetInt32(12),
                    Tools = reader.IsDBNull(13) ? null : ReadTools(reader.GetString(13)),
                    StepsCacheable = reader.GetInt32(14),
                });
            }

            return runs;
        }
    }

    /// <summary>The steps a run recorded, with the key each had: what <c>PipelineResumeFrom=&lt;run-id&gt;:&lt;step&gt;</c> restores from.</summary>
    public IReadOnlyList<StepRunRecord>? FindRunSteps(string runId)
    {
        lock (_lock)
        {
            using var exists = _connection.CreateCommand();
            exists.CommandText = "SELECT 1 FROM runs WHERE id = $id";
            exists.Parameters.AddWithValue("$id", runId);
            if (exists.ExecuteScalar() is null)
            {
                return null;
            }

            using var cmd = _connection.CreateCommand();
            cmd.CommandText = """
                SELECT s.step, s.key, s.outcome, s.reason, s.started_at, s.duration_ms, s.saved_ms, COALESCE(k.components, s.components), s.source,
                       s.parameters, s.metrics
                FROM step_runs s LEFT JOIN key_components k ON k.hash = s.components_hash
                WHERE s.run_id = $id
                ORDER BY s.started_at, s.step
                """;
            cmd.Parameters.AddWithValue("$id", runId);
            using var reader = cmd.ExecuteReader();
            var steps = new List<StepRunRecord>();
            while (reader.Read())
            {
                var components = reader.IsDBNull(7) ? null : JsonSerializer.Deserialize(reader.GetString(7), StoreJson.Default.ListKeyComponent);
                steps.Add(new StepRunRecord(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), components, reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), TimeSpan.FromMilliseconds(reader.GetInt64(5)))
                {
                    Saved = TimeSpan.FromMilliseconds(reader.GetInt64(6)),
                    Remote = !reader.IsDBNull(8) && reader.GetString(8) == "remote",
                    Parameters = reader.IsDBNull(9) ? null : ReadJson(reader.GetString(9), StoreJson.Default.SortedDictionaryStringString),
                    Metrics = reader.IsDBNull(10) ? null : ReadJson(reader.GetString(10), StoreJson.Default.SortedDictionaryStringDouble),
                });
            }

            return steps;
        }
    }

    /// <summary>A run's tool versions as stored; a value that is not a JSON object of strings reads as none (the store is untrusted input).</summary>
    private static SortedDictionary<string, string>? ReadTools(string json) => ReadJson(json, StoreJson.Default.SortedDictionaryStringString);

    /// <summary>A JSON column as <typeparamref name="T"/>; a value of another shape reads as none (the store is untrusted input).</summary>
    private static T? ReadJson<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(json, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>One recorded run by id, with its counts as <see cref="ListRuns"/> gives them; null when the store has no record of it.</summary>
    public RunRecord? FindRun(string runId) => QueryRuns("r.id = $p0", 1, runId).FirstOrDefault();

    /// <summary>The run of the same pipeline that started just before <paramref name="run"/>; null when it is the oldest recorded.</summary>
    public RunRecord? FindPreviousRun(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return QueryRuns("r.pipeline = $p0 AND (r.started_at < $p1 OR (r.started_at = $p1 AND r.rowid < (SELECT rowid FROM runs WHERE id = $p2)))", 1,
            run.Pipeline, run.StartedAt.ToUnixTimeMilliseconds(), run.Id).FirstOrDefault();
    }

    /// <summary>
    /// Stores a list of key components once (XxHash128 of its JSON names it; an equal list already stored is
    /// reused) and returns its name, for a step run to refer to.
    /// </summary>
    /// <summary>Stores a list of key components once (<paramref name="insert"/>: FinishRun's prepared insert); returns its hash.</summary>
    private static string StoreKeyComponents(IReadOnlyList<KeyComponent> components, Microsoft.Data.Sqlite.SqliteCommand insert)
    {
        var json = JsonSerializer.Serialize(components.ToList(), StoreJson.Default.ListKeyComponent);
        var hash = ContentHash.OfText(json);
        Rebind(insert, hash, json);
        insert.ExecuteNonQuery();
        return hash;
    }

    /// <summary>Sets a reused command's <c>$p0</c>, <c>$p1</c>, … to <paramref name="args"/> (null as SQL NULL).</summary>
    private static void Rebind(Microsoft.Data.Sqlite.SqliteCommand cmd, params object?[] args)
    {
        if (cmd.Parameters.Count == 0)
        {
            Bind(cmd, args);
            return;
        }

        for (var i = 0; i < args.Length; i++)
        {
            cmd.Parameters[i].Value = args[i] ?? DBNull.Value;
        }
    }

    /// <summary>
    /// Applies the limits of run history: every run that ended (or, never closed, started) longer than
    /// <paramref name="maxAge"/> ago goes, whatever its pipeline, as entries do under <c>PipelineCacheMaxAge</c>; and of
    /// <paramref name="pipeline"/>'s finished runs only the newest <paramref name="maxRuns"/> are kept
    /// (<c>PipelineRunHistoryLimit</c>). A run still in progress is never counted against the cap. Their step runs go
    /// with them, then the key components no step run refers to any more. Returns how many runs were removed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRuns"/> is not positive.</exception>
    public int PruneRuns(DateTimeOffset now, TimeSpan maxAge, string pipeline, int maxRuns)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRuns);
        lock (_lock)
        {
            using var tx = _connection.BeginTransaction(deferred: false);
            var removed = Execute(_connection, "DELETE FROM runs WHERE COALESCE(ended_at, started_at) < $p0", tx, (now - maxAge).ToUnixTimeMilliseconds());
            removed += Execute(_connection, """
                DELETE FROM runs WHERE pipeline = $p0 AND ended_at IS NOT NULL AND id NOT IN (
                    SELECT id FROM runs WHERE pipeline = $p0 AND ended_at IS NOT NULL ORDER BY started_at DESC, rowid DESC LIMIT $p1)
                """, tx, pipeline, maxRuns);
            if (removed > 0)
            {
                // step_runs went with their runs (ON DELETE CASCADE).
                Execute(_connection, "DELETE FROM key_components WHERE hash NOT IN (SELECT components_hash FROM step_runs WHERE components_hash IS NOT NULL)", tx);
            }

            tx.Commit();
            return removed;
        }
    }
}
