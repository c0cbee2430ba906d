namespace MLPipelines.Engine.Execution;

/// <summary>
/// Stops a pipeline whose step builds the same project again, which would otherwise recurse without end (the classic
/// case: `dotnet run step.cs` next to a project file runs the project, not the file). Step processes inherit the list
/// of pipeline projects running above them; a project that finds itself on the list refuses to run.
/// </summary>
public static class RecursionGuard
{
    public const string VariableName = "MLPIPELINES_RUNNING_PROJECTS";

    public static bool IsRunningAbove(string projectFile) =>
        (Environment.GetEnvironmentVariable(VariableName) ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Contains(Path.GetFullPath(projectFile), StringComparer.Ordinal);

    /// <summary>The variable's value for the processes of a pipeline run by <paramref name="projectFile"/>.</summary>
    public static KeyValuePair<string, string> ForChildrenOf(string projectFile)
    {
        var current = Environment.GetEnvironmentVariable(VariableName);
        var full = Path.GetFullPath(projectFile);
        return KeyValuePair.Create(VariableName, string.IsNullOrEmpty(current) ? full : current + Path.PathSeparator + full);
    }
}
