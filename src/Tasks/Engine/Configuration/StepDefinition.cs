namespace MLPipelines.Engine.Configuration;

/// <summary>How a step's code takes part in its key (SPEC `CacheStrategy`).</summary>
public enum CacheStrategy
{
    CodeHash,
    InputHash,
}

/// <summary>
/// One pipeline step as the user declared it, already parsed and normalised: every path is project-relative with
/// <c>/</c> separators (a trailing <c>/</c> marks a directory), so nothing here depends on where the checkout lives.
/// </summary>
public sealed record StepDefinition
{
    public required string Name { get; init; }
    public required string Command { get; init; }

    /// <summary>Project-relative working directory; empty for the project directory.</summary>
    public string WorkingDirectory { get; init; } = "";

    public IReadOnlyList<NamedValue> Environment { get; init; } = [];
    public IReadOnlyList<string> DependsOn { get; init; } = [];
    public IReadOnlyList<string> Inputs { get; init; } = [];
    public IReadOnlyList<string> Outputs { get; init; } = [];

    /// <summary>
    /// <c>PersistOutputs</c> (DVC's <c>persist</c>): outputs are not removed before the step executes, for steps that
    /// update them in place (checkpoints, an appended log). What is stored then depends on what was there before.
    /// </summary>
    public bool PersistOutputs { get; init; }
    public IReadOnlyList<NamedValue> Parameters { get; init; } = [];

    /// <summary>
    /// <c>Metrics</c> (DVC's <c>metrics</c>): project-relative files, each one of <see cref="Outputs"/> or below an
    /// output directory, holding a flat JSON object of numbers that every run records (<c>step_runs.metrics</c>).
    /// </summary>
    public IReadOnlyList<string> Metrics { get; init; } = [];
    public IReadOnlyList<string> Code { get; init; } = [];

    /// <summary>The step's own <c>EnableCache</c>; null when the step does not say.</summary>
    public bool? EnableCache { get; init; }

    public CacheStrategy CacheStrategy { get; init; } = CacheStrategy.CodeHash;
    public bool IncludeStepCode { get; init; } = true;
    public bool IncludeStepParameters { get; init; } = true;
    public bool IncludeArtifactValues { get; init; } = true;
    public bool IncludeArtifactIds { get; init; }
    public IReadOnlyList<string> IgnoredInputs { get; init; } = [];
    public IReadOnlyList<string> FileDependencies { get; init; } = [];
    public IReadOnlyList<string> SourceDependencies { get; init; } = [];
    public IReadOnlyList<string> EnvironmentDependencies { get; init; } = [];
    public string? CacheKeyCommand { get; init; }
    public string? CacheVersion { get; init; }
    public TimeSpan? ExpiresAfter { get; init; }

    /// <summary>
    /// <c>Tools</c>: the <c>PipelineTool</c> names whose versions join the key. Null (not set, or empty) for every
    /// declared tool; empty for none (<c>Tools="none"</c>).
    /// </summary>
    public IReadOnlyList<string>? Tools { get; init; }

    /// <summary><c>Platform</c>: whether the OS and architecture join the key; null when the step does not say (<c>PipelineKeyPlatform</c> decides).</summary>
    public bool? Platform { get; init; }

    /// <summary>Whether code counts: <c>InputHash</c> turns it off just as <c>IncludeStepCode=false</c> does.</summary>
    public bool CodeCounts => IncludeStepCode && CacheStrategy == CacheStrategy.CodeHash;
}

/// <summary>A <c>Name=Value</c> pair from <c>Parameters</c> or <c>Environment</c>.</summary>
public readonly record struct NamedValue(string Name, string Value);
