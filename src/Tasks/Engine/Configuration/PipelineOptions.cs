namespace MLPipelines.Engine.Configuration;

/// <summary>Pipeline-wide settings: the SPEC properties, after parsing.</summary>
public sealed record PipelineOptions
{
    public required string PipelineName { get; init; }

    /// <summary>Absolute project directory; every step path is relative to it.</summary>
    public required string ProjectDirectory { get; init; }

    /// <summary>Absolute path of the project file, if known: passed to step processes to detect recursion.</summary>
    public string? ProjectFile { get; init; }

    /// <summary>Absolute path of the store (<c>cache.db</c> and <c>objects/</c>).</summary>
    public required string CacheDirectory { get; init; }

    /// <summary>The store's folder, project-relative, when it lies inside the project; else null.</summary>
    public string? StoreDirectoryInProject =>
        Paths.ProjectPath.TryNormalize(ProjectDirectory, CacheDirectory + "/", out var relative) && relative.Length > 0 ? relative : null;

    /// <summary>The project's <c>EnablePipelineCache</c>: the default for steps that do not say.</summary>
    public bool CacheEnabledByDefault { get; init; } = true;

    /// <summary><c>EnablePipelineCache</c> given on the command line: overrides every step when set.</summary>
    public bool? CacheOverride { get; init; }

    public int MaxParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>The git asked for the run record's commit: a name looked up on PATH, or a path (tests pass a stand-in).</summary>
    internal string GitExecutable { get; init; } = "git";

    /// <summary>Step names to run (with what they need); empty for all.</summary>
    public IReadOnlyList<string> SelectedSteps { get; init; } = [];

    /// <summary>Step names to execute even on a hit; <c>*</c> for all.</summary>
    public IReadOnlyList<string> ForcedSteps { get; init; } = [];

    /// <summary>
    /// Source files of the projects named in <c>SourceDependencies</c> (their project file and every <c>Compile</c>
    /// item), by the project's normalised path; MSBuild evaluates the projects, the engine only hashes the files.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ProjectSources { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>The <c>PipelineTool</c> items: the tools whose versions join the keys.</summary>
    public IReadOnlyList<ToolDefinition> Tools { get; init; } = [];

    /// <summary>
    /// The <see cref="Tools"/>' versions as this build found them (<c>Execution.ToolVersions</c>), by name; null when
    /// no tool is declared. Found before the runner or planner starts, and recorded with the run.
    /// </summary>
    public IReadOnlyDictionary<string, string>? ToolVersions { get; init; }

    /// <summary><c>PipelineKeyPlatform</c>: whether the OS and architecture join the key of steps that do not say (<c>Platform</c>).</summary>
    public bool KeyPlatform { get; init; }

    /// <summary>
    /// <c>PipelineContinueOnError</c>: after a step fails, still start every step that does not depend on a failed one
    /// (DVC's <c>repro -k</c>, Turborepo's <c>--continue</c>). False (the default): no new step starts after a failure,
    /// hits included, as MSBuild and Turborepo stop scheduling; steps already running finish and are stored.
    /// </summary>
    public bool ContinueOnError { get; init; }

    /// <summary>
    /// <c>PipelineReplayLogs</c>: a hit replays the log its entry kept (<see cref="Execution.StepLog"/>), each line as
    /// the step's live output is shown (Turborepo's log replay).
    /// </summary>
    public bool ReplayLogs { get; init; }

    /// <summary>
    /// <c>PipelineStrictEnvironment=true</c> (with <c>PipelinePassThroughEnvironment</c>): which of the build's
    /// variables each step inherits; null (the default): all of them.
    /// </summary>
    public Execution.StrictEnvironment? StrictEnvironment { get; init; }

    /// <summary><c>PipelineResumeFrom</c>: the step to resume from, and the run whose results to restore (optional).</summary>
    public ResumePoint? ResumeFrom { get; init; }

    /// <summary><c>PipelineRemoteCache</c> and its mode and credentials; null (the default) when no remote cache is used.</summary>
    public Remote.RemoteCacheOptions? RemoteCache { get; init; }

    public TimeSpan CacheMaxAge { get; init; } = TimeSpan.FromDays(28);
    public long? CacheMaxSizeBytes { get; init; }

    /// <summary>
    /// <c>PipelineRunHistoryLimit</c>: how many finished runs of this pipeline the store keeps (the newest); older
    /// ones go when the cache is pruned, as do runs older than <see cref="CacheMaxAge"/>.
    /// </summary>
    public int RunHistoryLimit { get; init; } = Store.CacheStore.DefaultRunHistoryLimit;

    /// <summary>
    /// <c>PipelineLockTimeout</c>'s default: a day. A run can take hours (training) and the holder of the lock is always
    /// a live build (the lock dies with its process), so a second build gains nothing by giving up early; the bound is
    /// for unattended builds behind a hung one.
    /// </summary>
    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromDays(1);

    /// <summary><c>PipelineLockTimeout</c>: how long <c>RunPipeline</c> waits for another build of the same project's pipeline; zero: not at all.</summary>
    public TimeSpan LockTimeout { get; init; } = DefaultLockTimeout;

    /// <summary><c>PipelineSummaryFile</c>, absolute: where <c>RunPipeline</c> writes the run's JSON summary; null: none.</summary>
    public string? SummaryFile { get; init; }

    /// <summary>
    /// The file of <c>GITHUB_STEP_SUMMARY</c> (GitHub Actions sets it), absolute: <c>RunPipeline</c> appends the run's
    /// Markdown summary to it; null: none.
    /// </summary>
    public string? GitHubStepSummary { get; init; }
}

/// <summary>Where a resumed run starts: <c>&lt;step&gt;</c> or <c>&lt;run-id&gt;:&lt;step&gt;</c>.</summary>
public sealed record ResumePoint(string Step, string? RunId)
{
    /// <summary>
    /// <c>PipelineResumeFrom</c>: one point. It is read as the other step properties are (<c>;</c> or <c>,</c>,
    /// spaces and empty items dropped), so <c>train;</c> from a property built up in a script is <c>train</c>; neither
    /// a step name nor a run id can hold either character. More than one point is MLP1014: a run resumes from one
    /// step, and picking one of them would run what was not asked for.
    /// </summary>
    public static ResumePoint? Parse(string? text, List<PipelineDiagnostic>? diagnostics = null)
    {
        var items = StepParser.SplitStepNames(text);
        if (items.Count == 0)
        {
            return null;
        }

        if (items.Count > 1)
        {
            diagnostics?.Add(new(ErrorCodes.InvalidProperty, null,
                $"Property PipelineResumeFrom='{StepParser.Shown(text!)}' is not valid: give one step, '<step>' or '<run-id>:<step>'; a run resumes from one step, and the steps downstream of it execute too."));
            return null;
        }

        var trimmed = items[0];
        var colon = trimmed.LastIndexOf(':');
        return colon < 0 ? new ResumePoint(trimmed, null) : new ResumePoint(trimmed[(colon + 1)..].Trim(), trimmed[..colon].Trim());
    }

    public override string ToString() => RunId is null ? Step : $"{RunId}:{Step}";
}
