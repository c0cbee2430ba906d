using System.Text.RegularExpressions;

namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>
/// Shortcuts shared by every test folder: one target of a workspace's <c>pipeline.proj</c> per call (the caller checks
/// success or failure with <see cref="BuildResult.EnsureSucceeded"/> or <see cref="BuildResult.EnsureFailed"/>), and
/// what the log says of one step: a hit, or a miss (and why) that then executed.
/// </summary>
public static partial class PipelineRuns
{
    /// <summary>The project file a <see cref="PipelineProject"/> is saved as unless told otherwise.</summary>
    public const string Project = "pipeline.proj";

    /// <summary><c>dotnet build pipeline.proj -t:&lt;target&gt; …</c> with <paramref name="runner"/>'s settings.</summary>
    public static BuildResult RunTarget(this DotnetRunner runner, string target, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(runner);
        return runner.Build(Project, [DotnetRunner.Target(target), .. arguments]);
    }

    /// <summary><c>dotnet build pipeline.proj -t:&lt;target&gt; …</c> with the default runner.</summary>
    public static BuildResult RunTarget(this Workspace workspace, string target, params string[] arguments) =>
        new DotnetRunner(workspace).RunTarget(target, arguments);

    /// <summary><c>dotnet build pipeline.proj -t:RunPipeline …</c>, whatever its outcome.</summary>
    public static BuildResult RunPipeline(this Workspace workspace, params string[] arguments) => workspace.RunTarget("RunPipeline", arguments);

    /// <summary><c>dotnet build pipeline.proj -t:RunPipeline …</c> with <paramref name="runner"/>'s settings (environment, logger, timeout).</summary>
    public static BuildResult RunPipeline(this DotnetRunner runner, params string[] arguments) => runner.RunTarget("RunPipeline", arguments);

    /// <summary><c>dotnet build pipeline.proj -t:PlanPipeline …</c>, whatever its outcome.</summary>
    public static BuildResult PlanPipeline(this Workspace workspace, params string[] arguments) => workspace.RunTarget("PlanPipeline", arguments);

    public static BuildResult ClearCache(this Workspace workspace, params string[] arguments) => workspace.RunTarget("ClearPipelineCache", arguments);

    public static BuildResult PruneCache(this Workspace workspace, params string[] arguments) => workspace.RunTarget("PrunePipelineCache", arguments);

    public static BuildResult ListRuns(this Workspace workspace, params string[] arguments) => workspace.RunTarget("ListPipelineRuns", arguments);

    /// <summary>The step was restored: "Using cached version of X." and no line mentions a cache miss for it.</summary>
    public static BuildResult EnsureHit(this BuildResult result, string step)
    {
        ArgumentNullException.ThrowIfNull(result);
        result.EnsureLine($"Using cached version of {step}.");
        Assert.True(result.LinesContaining($"Cache miss for {step}:").Count == 0, $"Expected no cache miss for {step}.\n{result}");
        return result;
    }

    /// <summary>
    /// The step missed and executed: the log says exactly why ("Cache miss for X: reason."), it was not restored, and it
    /// finished ("Step X has finished in &lt;n&gt;s.").
    /// </summary>
    public static BuildResult EnsureMiss(this BuildResult result, string step, string reason)
    {
        ArgumentNullException.ThrowIfNull(result);
        result.EnsureLine($"Cache miss for {step}: {reason}.");
        Assert.False(result.HasLine($"Using cached version of {step}."), $"Expected {step} not to be restored.\n{result}");
        Assert.True(result.Lines.Any(line => FinishedLine().Match(line.Trim()) is { Success: true } m && m.Groups[1].Value == step),
            $"Expected \"Step {step} has finished in <n>s.\"\n{result}");
        return result;
    }

    /// <summary>The reason of the step's "Cache miss for X: …." line, or null when there is none.</summary>
    public static string? MissReason(this BuildResult result, string step)
    {
        ArgumentNullException.ThrowIfNull(result);
        string prefix = $"Cache miss for {step}: ";
        string? line = result.Lines.Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line?[prefix.Length..].TrimEnd('.');
    }

    /// <summary>Index of the first line that is exactly <paramref name="text"/> (indentation aside); fails when none.</summary>
    public static int IndexOfLine(this BuildResult result, string text)
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

    /// <summary>
    /// The run's one closing summary line, without its duration: "Pipeline P: 3 steps, …, hit rate 33%" (or "hit rate
    /// 100% of 2 cacheable steps", or "no cacheable steps"). Fails unless
    /// exactly one line mentions "Pipeline &lt;pipeline&gt;: " and it is a whole summary line.
    /// </summary>
    public static string Summary(this BuildResult result, string pipeline = "pipeline")
    {
        ArgumentNullException.ThrowIfNull(result);
        string line = Assert.Single(result.LinesContaining($"Pipeline {pipeline}: "));
        Match match = SummaryLine().Match(line);
        Assert.True(match.Success, $"Expected \"{line}\" to be a pipeline summary line.\n{result}");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"^Step (\S+) has finished in \d+\.\d{3}s\.$")]
    private static partial Regex FinishedLine();

    [GeneratedRegex(@"^(Pipeline .+: \d+ steps?, .*(?:hit rate \d+%(?: of \d+ cacheable steps?)?|no cacheable steps)), \d+\.\ds\.$")]
    private static partial Regex SummaryLine();
}
