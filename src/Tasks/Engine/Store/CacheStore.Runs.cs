using System.Text.Json;
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

    /// <summary>What the cache hits of this run saved: the recorded durations of the runs that produced the reused entries.</summary>
    public TimeSpan TimeSaved { get; init; }
}

/// <summary>One step of a recorded run. <see cref="Saved"/> is the producing run's duration for a cache hit.</summary>
public sealed record StepRunRecord(string Step, string? Key, IReadOnlyList<KeyComponent>? Components, string Outcome, string? Reason, DateTimeOffset StartedAt, TimeSpan Duration)
{
    public TimeSpan Saved { get; init; }
}

public sealed partial class CacheStore
{
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
            Execute(_connection, """
                UPDATE runs SET ended_at = $p1, status = $p2, steps_total = $p3, steps_cached = $p4, steps_executed = $p5, steps_failed = $p6
                WHERE id = $p0
                """, tx, run.Id, run.EndedAt?.ToUnixTimeMilliseconds(), run.Status, steps.Count,
                steps.Count(s => s.Outcome == "cached"), steps.Count(s => s.Outcome == "executed"), steps.Count(s => s.Outcome == "failed"));
            foreach (var s in steps)
            {
                Execute(_connection, """
                    INSERT OR REPLACE INTO step_runs (run_id, step, key, components, outcome, reason, started_at, duration_ms, saved_ms)
                    VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8)
                    """, tx, run.Id, s.Step, s.Key,
                    s.Components is null ? null : JsonSerializer.Serialize(s.Components.ToList(), StoreJson.Default.ListKeyComponent),
                    s.Outcome, s.Reason, s.StartedAt.ToUnixTimeMilliseconds(), (long)s.Duration.TotalMilliseconds, (long)s.Saved.TotalMilliseconds);
            }

            tx.Commit();
        }
    }

    /// <summary>Recent runs, newest first.</summary>
    public IReadOnlyList<RunRecord> ListRuns(int limit, string? pipeline = null)
    {
        lock (_lock)
        {
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = """
                SELECT r.id, r.pipeline, r.started_at, r.ended_at, r.status, r.git_commit, r.steps_total, r.steps_cached, r.steps_executed, r.steps_failed,
                       (SELECT COALESCE(SUM(saved_ms), 0) FROM step_runs s WHERE s.run_id = r.id)
                FROM runs r
                WHERE $pipeline IS NULL OR r.pipeline = $pipeline
                ORDER BY r.started_at DESC, r.rowid DESC
                LIMIT $limit
                """;
            cmd.Parameters.AddWithValue("$pipeline", (object?)pipeline ?? DBNull.Value);
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
            cmd.CommandText = "SELECT step, key, outcome, reason, started_at, duration_ms, saved_ms, components FROM step_runs WHERE run_id = $id";
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
                });
            }

            return steps;
        }
    }
}
