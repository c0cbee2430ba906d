using MLPipelines.Engine.Keys;
using MLPipelines.Engine.Store;

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

    /// <summary>For a hit: how long the run that produced the reused entry took to execute the step; zero otherwise.</summary>
    public TimeSpan Saved { get; init; }

    /// <summary>
    /// The components of <see cref="Key"/>, in canonical order (the same list the run record keeps); null when the key
    /// could not be computed. Environment values are in it only as keyed hashes, never in clear.
    /// </summary>
    public IReadOnlyList<KeyComponent>? Components { get; init; }

    /// <summary>
    /// The output files of the entry the step restored (a hit) or stored (executed): project-relative paths, content
    /// hashes, sizes in bytes. Null when there is none: the step failed or did not run, or its result was not stored.
    /// </summary>
    public IReadOnlyList<ManifestFile>? Outputs { get; init; }

    /// <summary>
    /// Whether the step's cache was on in this run (<c>EnableCache</c>, <c>EnablePipelineCache</c>), so a hit was
    /// possible: what <see cref="HitRate"/> counts. A hit is always cacheable.
    /// </summary>
    public bool Cacheable { get; init; } = true;

    /// <summary>
    /// The <c>Parameters</c> the step was declared with in this run, by name; null when its key was not computed (it
    /// did not run). For a hit, the values its key matched (an ignored parameter may differ from the producing run).
    /// </summary>
    public IReadOnlyDictionary<string, string>? Parameters { get; init; }

    /// <summary>
    /// The values of its <c>Metrics</c> files after the step executed or was restored, by name; null when it declares
    /// none, or when it failed or did not run.
    /// </summary>
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
}

/// <summary>A whole run: every step's result, in dependency order.</summary>
public sealed record PipelineRunResult(string RunId, IReadOnlyList<StepResult> Steps, TimeSpan Duration)
{
    /// <summary>Entries this run uploaded to the remote cache (<c>PipelineRemoteCache</c>).</summary>
    public int RemoteUploads { get; init; }

    /// <summary>The declared tools' versions as this run found them (<c>PipelineTool</c>), by tool name; null when none are declared.</summary>
    public IReadOnlyDictionary<string, string>? Tools { get; init; }

    /// <summary>When the run started (UTC); it ended <see cref="Duration"/> later.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>As recorded: <c>succeeded</c>, <c>failed</c> or <c>cancelled</c>; unless set, from the steps' outcomes.</summary>
    public string Status
    {
        get => _status ?? (Succeeded ? "succeeded" : "failed");
        init => _status = value;
    }

    private readonly string? _status;

    /// <summary>The project's git commit, only when its checkout was clean (see <c>GitCommit</c>); else null.</summary>
    public string? GitCommit { get; init; }

    public bool Succeeded => Steps.All(s => s.Outcome is StepOutcome.Cached or StepOutcome.Executed);

    public int Count(StepOutcome outcome) => Steps.Count(s => s.Outcome == outcome);

    /// <summary>Steps whose cache was on in this run (<see cref="StepResult.Cacheable"/>, hits included).</summary>
    public int CacheableCount => Steps.Count(s => s.Cacheable || s.Outcome == StepOutcome.Cached);

    /// <summary>Cached steps as a whole percentage of the cacheable ones (<see cref="HitRate"/>); null when none was cacheable.</summary>
    public int? HitRatePercent => HitRate.Percent(Count(StepOutcome.Cached), CacheableCount);

    /// <summary><c>hit rate 67%</c>, <c>hit rate 100% of 3 cacheable steps</c> or <c>no cacheable steps</c> (<see cref="HitRate.Describe"/>).</summary>
    public string HitRateText => HitRate.Describe(Count(StepOutcome.Cached), CacheableCount, Steps.Count);

    /// <summary>
    /// <c>N steps, C cached, E executed</c>, then <c>, F failed</c> and <c>, R not run</c> when there are any: the
    /// counts the log's summary line and the run reports share.
    /// </summary>
    public string Counts()
    {
        var parts = new List<string> { Steps.Count == 1 ? "1 step" : $"{Steps.Count} steps", $"{Count(StepOutcome.Cached)} cached", $"{Count(StepOutcome.Executed)} executed" };
        if (Count(StepOutcome.Failed) is > 0 and var failed)
        {
            parts.Add($"{failed} failed");
        }

        if (Count(StepOutcome.NotRun) is > 0 and var notRun)
        {
            parts.Add($"{notRun} not run");
        }

        return string.Join(", ", parts);
    }
}
