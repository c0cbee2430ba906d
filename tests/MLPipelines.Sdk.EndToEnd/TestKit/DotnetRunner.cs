namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>
/// Runs a real <c>dotnet build</c> or <c>dotnet msbuild</c> in a workspace, the way a user would, with what keeps
/// tests independent: node reuse off, no build servers, the workspace's packages folder, the terminal logger off
/// unless a test asks for it.
/// </summary>
public sealed class DotnetRunner
{
    public DotnetRunner(Workspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        Workspace = workspace;
    }

    public Workspace Workspace { get; }

    public TimeSpan Timeout { get; init; } = ProcessRunner.DefaultTimeout;

    /// <summary>On: <c>-tl:on</c>, to check what users of the terminal logger see. Off (default): plain console lines.</summary>
    public bool TerminalLogger { get; init; }

    /// <summary>A <c>-v:</c> value; null leaves the command's default (minimal for build, normal for msbuild).</summary>
    public string? Verbosity { get; init; }

    /// <summary>Sees each line of the build's output as it is written (on a reader thread), while the build runs.</summary>
    public Action<string>? OnLine { get; init; }

    /// <summary>Extra variables for the build (a null value removes one): what a step may read, or a cache dependency.</summary>
    public IDictionary<string, string?> Environment { get; } = new Dictionary<string, string?>(StringComparer.Ordinal);

    /// <summary>A <c>-t:</c> argument.</summary>
    public static string Target(params string[] targets) => "-t:" + string.Join(';', targets);

    /// <summary>A <c>-p:</c> argument; ';' is escaped so a list stays one property value.</summary>
    public static string Property(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return $"-p:{name}={value.Replace("%", "%25", StringComparison.Ordinal).Replace(";", "%3B", StringComparison.Ordinal)}";
    }

    /// <summary><c>dotnet build &lt;project&gt; &lt;arguments&gt;</c>, e.g. <c>Build("pipeline.proj", Target("RunPipeline"))</c>.</summary>
    public BuildResult Build(string project, params string[] arguments) => Run("build", project, arguments);

    /// <summary><c>dotnet msbuild &lt;project&gt; &lt;arguments&gt;</c>: no implicit restore, normal verbosity.</summary>
    public BuildResult MSBuild(string project, params string[] arguments) => Run("msbuild", project, arguments);

    /// <summary>Any <c>dotnet</c> command that takes a project and MSBuild arguments (build, msbuild, restore, clean).</summary>
    public BuildResult Run(string command, string project, IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        List<string> commandLine = [command, project, "-nr:false", TerminalLogger ? "-tl:on" : "-tl:off"];
        if (command != "msbuild")
        {
            // Build, restore and clean accept it: no compiler or MSBuild server outlives the test. (`dotnet msbuild`
            // does not; there an add-on project's compile may start the compiler server, which holds no task code.)
            commandLine.Add("--disable-build-servers");
        }

        if (Verbosity is not null)
        {
            commandLine.Add($"-v:{Verbosity}");
        }

        commandLine.AddRange(arguments);

        var environment = new Dictionary<string, string?>(Workspace.Environment, StringComparer.Ordinal);
        foreach (KeyValuePair<string, string?> variable in Environment)
        {
            environment[variable.Key] = variable.Value;
        }

        ProcessResult process = ProcessRunner.Run(
            ProcessRunner.DotnetExecutable,
            commandLine,
            Workspace.ProjectDirectory,
            environment,
            Timeout,
            OnLine);
        var result = new BuildResult(process);
        Workspace.Output?.WriteLine(result.ToString());
        return result;
    }
}

/// <summary>Shortcuts for the common case: one build with the default runner.</summary>
public static class WorkspaceBuildExtensions
{
    public static BuildResult Build(this Workspace workspace, string project, params string[] arguments) =>
        new DotnetRunner(workspace).Build(project, arguments);

    public static BuildResult MSBuild(this Workspace workspace, string project, params string[] arguments) =>
        new DotnetRunner(workspace).MSBuild(project, arguments);
}
