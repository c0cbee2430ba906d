using System.Text.RegularExpressions;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Microsoft.Data.Sqlite;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// Shortcuts of the foundation tests. Steps made with <see cref="TracedStep"/> append their name to
/// <c>executed.log</c> when their command really runs, so "executed" and "restored" are told apart by what happened on
/// disk, not only by what the log says.
/// </summary>
internal static partial class CoreKit
{
    public const string Project = "pipeline.proj";

    public const string ExecutedLog = "executed.log";

    /// <summary>A step whose command first appends the step's name to <c>executed.log</c> (a file no step declares).</summary>
    public static PipelineProject TracedStep(
        this PipelineProject project,
        string name,
        string command,
        string? inputs = null,
        string? outputs = null,
        string? dependsOn = null,
        string? parameters = null,
        string? code = null,
        IEnumerable<KeyValuePair<string, string>>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(project);
        return project.Step(name, $"echo {name} >> {ExecutedLog} && {command}", inputs, outputs, dependsOn, parameters, code, metadata);
    }

    /// <summary>The names of the steps whose commands ran, in order, over every build of the workspace so far.</summary>
    public static IReadOnlyList<string> Executed(this Workspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return workspace.FileExists(ExecutedLog)
            ? workspace.ReadFile(ExecutedLog).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
    }

    /// <summary>Forgets which steps ran: the next <see cref="Executed"/> lists only what runs after this.</summary>
    public static void ClearExecuted(this Workspace workspace) => workspace.Delete(ExecutedLog);

    /// <summary><c>dotnet build pipeline.proj -t:RunPipeline …</c>, whatever its outcome.</summary>
    public static BuildResult RunPipeline(this Workspace workspace, params string[] arguments) =>
        workspace.Build(Project, [DotnetRunner.Target("RunPipeline"), .. arguments]);

    /// <summary>The step executed because of <paramref name="reason"/>, and was not restored.</summary>
    public static BuildResult EnsureExecuted(this BuildResult result, string step, string reason)
    {
        ArgumentNullException.ThrowIfNull(result);
        result.EnsureLine($"Cache miss for {step}: {reason}.");
        Assert.False(result.HasLine($"Using cached version of {step}."), $"Expected {step} not to be restored.\n{result}");
        Assert.True(result.Lines.Any(line => FinishedLine().Match(line.Trim()) is { Success: true } m && m.Groups[1].Value == step),
            $"Expected \"Step {step} has finished in <n>s.\"\n{result}");
        return result;
    }

    /// <summary>The step was a hit: "Using cached version of X." and no miss.</summary>
    public static BuildResult EnsureCached(this BuildResult result, string step)
    {
        ArgumentNullException.ThrowIfNull(result);
        result.EnsureLine($"Using cached version of {step}.");
        Assert.Empty(result.LinesContaining($"Cache miss for {step}:"));
        return result;
    }

    /// <summary>The run's closing summary line, without its duration: "Pipeline P: 3 steps, …, hit rate 33%".</summary>
    public static string Summary(this BuildResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string? line = result.Lines.Select(l => l.Trim()).FirstOrDefault(l => SummaryLine().IsMatch(l));
        Assert.True(line is not null, $"Expected a pipeline summary line.\n{result}");
        return SummaryLine().Match(line).Groups[1].Value;
    }

    /// <summary>Index of the first line that is exactly <paramref name="text"/> (indentation aside); fails when none.</summary>
    public static int LineIndex(this BuildResult result, string text)
    {
        ArgumentNullException.ThrowIfNull(result);
        for (int i = 0; i < result.Lines.Count; i++)
        {
            if (result.Lines[i].Trim() == text)
            {
                return i;
            }
        }

        Assert.Fail($"Expected the line \"{text}\" in the log.\n{result}");
        return -1;
    }

    /// <summary>Opens a store's cache.db (no pooling: nothing stays open after the test).</summary>
    public static SqliteConnection OpenCacheDatabase(string cacheDirectory)
    {
        string database = Path.Combine(cacheDirectory, "cache.db");
        Assert.True(File.Exists(database), $"No cache.db in {cacheDirectory}.");
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    public static SqliteConnection OpenCacheDatabase(this Workspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return OpenCacheDatabase(workspace.GetPath(".mlpipelines"));
    }

    public static object? Scalar(this SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        foreach ((string name, object value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command.ExecuteScalar();
    }

    public static IReadOnlyList<string> Strings(this SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        foreach ((string name, object value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        using SqliteDataReader reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    /// <summary>No line of the log is a .NET stack frame.</summary>
    public static BuildResult EnsureNoStackTrace(this BuildResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Assert.False(result.Lines.Any(line => line.StartsWith("   at ", StringComparison.Ordinal) || line.Contains("Exception:", StringComparison.Ordinal)),
            $"Expected no stack trace in the log.\n{result}");
        return result;
    }

    [GeneratedRegex(@"^Step (\S+) has finished in \d+\.\d{3}s\.$")]
    private static partial Regex FinishedLine();

    [GeneratedRegex(@"^(Pipeline .+: \d+ steps, .*hit rate \d+%), \d+\.\ds\.$")]
    private static partial Regex SummaryLine();
}
