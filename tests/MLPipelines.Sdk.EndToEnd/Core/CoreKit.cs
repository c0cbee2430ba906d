using MLPipelines.Sdk.EndToEnd.TestKit;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// Shortcuts of the foundation tests (the shared ones are in <see cref="PipelineRuns"/>). Steps made with
/// <see cref="TracedStep"/> append their name to <c>executed.log</c> when their command really runs, so "executed" and
/// "restored" are told apart by what happened on disk, not only by what the log says.
/// </summary>
internal static class CoreKit
{
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

    /// <summary>No line of the log is a .NET stack frame.</summary>
    public static BuildResult EnsureNoStackTrace(this BuildResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Assert.False(result.Lines.Any(line => line.StartsWith("   at ", StringComparison.Ordinal) || line.Contains("Exception:", StringComparison.Ordinal)),
            $"Expected no stack trace in the log.\n{result}");
        return result;
    }
}
