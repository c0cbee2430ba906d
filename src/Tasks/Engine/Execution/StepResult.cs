namespace MLPipelines.Engine.Execution;

public enum StepOutcome
{
    /// <summary>Restored from the store; the command did not run.</summary>
    Cached,

    /// <summary>The command ran and succeeded.</summary>
    Executed,

    /// <summary>The command failed, could not start, or its outputs were missing.</summary>
    Failed,

    /// <summary>Not started: an upstream step failed, or the build was cancelled.</summary>
    NotRun,
}

/// <summary>What happened to one step in a run.</summary>
public sealed record StepResult(string Name, StepOutcome Outcome, string? Key, TimeSpan Duration, string? MissReason)
{
    /// <summary>For a <see cref="StepOutcome.Cached"/> step: its entry came from the remote cache, not the local store.</summary>
    public bool Remote { get; init; }
}

/// <summary>A whole run: every step's result, in dependency order.</summary>
public sealed record PipelineRunResult(string RunId, IReadOnlyList<StepResult> Steps, TimeSpan Duration)
{
    /// <summary>Entries this run uploaded to the remote cache (<c>PipelineRemoteCache</c>).</summary>
    public int RemoteUploads { get; init; }

    /// <summary>The declared tools' versions as this run found them (<c>PipelineTool</c>), by tool name; null when none are declared.</summary>
    public IReadOnlyDictionary<string, string>? Tools { get; init; }

    public bool Succeeded => Steps.All(s => s.Outcome is StepOutcome.Cached or StepOutcome.Executed);

    public int Count(StepOutcome outcome) => Steps.Count(s => s.Outcome == outcome);
}
