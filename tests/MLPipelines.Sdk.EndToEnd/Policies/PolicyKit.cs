using MLPipelines.Sdk.EndToEnd.TestKit;
using Microsoft.Data.Sqlite;

namespace MLPipelines.Sdk.EndToEnd.Policies;

/// <summary>
/// Shortcuts of the cache-policy tests: run or plan the pipeline of <c>pipeline.proj</c>, and say of one step whether
/// the log shows a hit or a miss (and why).
/// </summary>
internal static class PolicyKit
{
    public const string Project = "pipeline.proj";

    /// <summary><c>dotnet build pipeline.proj -t:RunPipeline …</c>, which must succeed.</summary>
    public static BuildResult RunPipeline(this Workspace workspace, params string[] arguments) =>
        workspace.RunPipelineWith(new DotnetRunner(workspace), arguments);

    public static BuildResult RunPipelineWith(this Workspace workspace, DotnetRunner runner, params string[] arguments) =>
        runner.Build(Project, [DotnetRunner.Target("RunPipeline"), .. arguments]).EnsureSucceeded();

    /// <summary><c>dotnet build pipeline.proj -t:PlanPipeline …</c>, which must succeed (exit code 0).</summary>
    public static BuildResult PlanPipeline(this Workspace workspace, params string[] arguments)
    {
        BuildResult result = new DotnetRunner(workspace).Build(Project, [DotnetRunner.Target("PlanPipeline"), .. arguments]);
        Assert.True(result.ExitCode == 0, $"Expected PlanPipeline to exit with 0.\n{result}");
        return result;
    }

    /// <summary>The step was restored: "Using cached version of X." and no miss line.</summary>
    public static BuildResult EnsureHit(this BuildResult result, string step)
    {
        result.EnsureLine($"Using cached version of {step}.");
        Assert.True(result.MissReason(step) is null, $"Expected no cache miss for {step}.\n{result}");
        return result;
    }

    /// <summary>The step executed, and the log says exactly why: "Cache miss for X: reason."</summary>
    public static BuildResult EnsureMiss(this BuildResult result, string step, string reason)
    {
        result.EnsureLine($"Cache miss for {step}: {reason}.");
        Assert.False(result.HasLine($"Using cached version of {step}."), $"Expected {step} not to be restored.\n{result}");
        return result;
    }

    /// <summary>The reason of the step's "Cache miss for X: …." line, or null when there is none.</summary>
    public static string? MissReason(this BuildResult result, string step)
    {
        string prefix = $"Cache miss for {step}: ";
        string? line = result.Lines.Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line?[prefix.Length..].TrimEnd('.');
    }

    /// <summary>Index of the first line that is exactly <paramref name="text"/> (indentation aside); -1 when none.</summary>
    public static int IndexOfLine(this BuildResult result, string text)
    {
        for (int i = 0; i < result.Lines.Count; i++)
        {
            if (result.Lines[i].Trim() == text)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>Reads and edits the rows of a pipeline's <c>cache.db</c> (the default store, <c>.mlpipelines/</c>).</summary>
internal static class PolicyStore
{
    public static string Directory(Workspace workspace) => workspace.GetPath(".mlpipelines");

    /// <summary>Moves the creation time of every entry of <paramref name="step"/> back by <paramref name="age"/>.</summary>
    public static void AgeEntries(Workspace workspace, string step, TimeSpan age)
    {
        using SqliteConnection connection = Open(workspace);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "UPDATE entries SET created_at = created_at - $age WHERE step = $step";
        command.Parameters.AddWithValue("$age", (long)age.TotalMilliseconds);
        command.Parameters.AddWithValue("$step", step);
        Assert.True(command.ExecuteNonQuery() > 0, $"No entry of step {step} to age.");
    }

    /// <summary>Every entry of <paramref name="step"/>: its key and creation time.</summary>
    public static IReadOnlyList<(string Key, DateTimeOffset CreatedAt)> Entries(Workspace workspace, string step)
    {
        using SqliteConnection connection = Open(workspace);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT key, created_at FROM entries WHERE step = $step ORDER BY id";
        command.Parameters.AddWithValue("$step", step);
        using SqliteDataReader reader = command.ExecuteReader();
        var entries = new List<(string, DateTimeOffset)>();
        while (reader.Read())
        {
            entries.Add((reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1))));
        }

        return entries;
    }

    /// <summary>The key each step had in the newest recorded run, by step name.</summary>
    public static IReadOnlyDictionary<string, string?> LatestRunKeys(Workspace workspace)
    {
        using SqliteConnection connection = Open(workspace);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = """
            SELECT step, key FROM step_runs
            WHERE run_id = (SELECT id FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1)
            """;
        using SqliteDataReader reader = command.ExecuteReader();
        var keys = new Dictionary<string, string?>(StringComparer.Ordinal);
        while (reader.Read())
        {
            keys[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
        }

        return keys;
    }

    /// <summary>The files whose content hash the store remembers (table file_stamps), as stored.</summary>
    public static IReadOnlyList<string> FileStampPaths(Workspace workspace)
    {
        using SqliteConnection connection = Open(workspace);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT path FROM file_stamps ORDER BY path";
        using SqliteDataReader reader = command.ExecuteReader();
        var paths = new List<string>();
        while (reader.Read())
        {
            paths.Add(reader.GetString(0).Replace('\\', '/'));
        }

        return paths;
    }

    /// <summary>The bytes of every file of the store but <c>objects/</c> (cache.db and any -wal/-shm next to it).</summary>
    public static IEnumerable<(string File, byte[] Bytes)> DatabaseFiles(Workspace workspace) =>
        System.IO.Directory.EnumerateFiles(Directory(workspace), "cache.db*")
            .Select(file => (file, File.ReadAllBytes(file)));

    private static SqliteConnection Open(Workspace workspace)
    {
        string database = Path.Combine(Directory(workspace), "cache.db");
        Assert.True(File.Exists(database), $"No store at {database}.");
        var builder = new SqliteConnectionStringBuilder { DataSource = database, Pooling = false };
        var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        return connection;
    }
}
