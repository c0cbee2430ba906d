using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Graph;
using MLPipelines.Engine.Keys;
using MLPipelines.Engine.Store;

namespace MLPipelines.Engine.Execution;

/// <summary>What a step does in a resumed run (<see cref="ResumeScope"/>).</summary>
public enum ResumeRole
{
    /// <summary>Upstream of the named step: restored from the store, never executed (MLP2007 when it cannot be).</summary>
    RestoreOnly,

    /// <summary>The named step or downstream of it: executed, whatever the store holds.</summary>
    Executes,
}

/// <summary>
/// What <c>PipelineResumeFrom</c> (SPEC: <c>&lt;step&gt;</c> or <c>&lt;run-id&gt;:&lt;step&gt;</c>) means for each
/// step, in one place for <c>RunPipeline</c> and <c>PlanPipeline</c>, so the plan says what the run does: the steps
/// upstream of the named one are restored only, from the entry of their current key (with a run id, only while that
/// key is the one the run recorded); the named step and everything downstream execute.
/// </summary>
public sealed class ResumeScope
{
    private readonly CacheStore _store;
    private readonly string _pipeline;
    private readonly Dictionary<string, StepRunRecord>? _runSteps;
    private readonly RunRecord? _run;
    private readonly HashSet<string> _restoreOnly;
    private readonly HashSet<string> _executes;

    private ResumeScope(ResumePoint point, PipelineGraph graph, CacheStore store, string pipeline, Dictionary<string, StepRunRecord>? runSteps, RunRecord? run)
    {
        _run = run;
        Point = point;
        _store = store;
        _pipeline = pipeline;
        _runSteps = runSteps;
        _executes = graph.WithDownstream(point.Step);
        Needed = graph.WithUpstream([point.Step]);
        _restoreOnly = new HashSet<string>(Needed, StringComparer.OrdinalIgnoreCase);
        _restoreOnly.ExceptWith(_executes);
    }

    public ResumePoint Point { get; }

    /// <summary>The named step and its upstream steps: a resumed run runs them whatever <c>PipelineSteps</c> selects.</summary>
    public IReadOnlySet<string> Needed { get; }

    /// <summary>The miss reason of every step that executes because of the resume: <c>resumed from &lt;point&gt;</c>.</summary>
    public string Reason => $"resumed from {Point}";

    /// <summary>
    /// Reads the run the point names, if any. Null, with error MLP1017 logged, when the store has no record of it
    /// (the named step itself is checked with the configuration: MLP1016).
    /// </summary>
    public static ResumeScope? Open(ResumePoint point, PipelineGraph graph, CacheStore store, string pipeline, IPipelineLog log)
    {
        ArgumentNullException.ThrowIfNull(point);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(log);
        Dictionary<string, StepRunRecord>? runSteps = null;
        RunRecord? run = null;
        if (point.RunId is not null)
        {
            var recorded = store.FindRunSteps(point.RunId);
            if (recorded is null)
            {
                log.Error(new(ErrorCodes.UnknownRun, point.Step,
                    $"PipelineResumeFrom names run '{point.RunId}', which the pipeline cache has no record of. ListPipelineRuns shows the recorded runs."));
                return null;
            }

            runSteps = recorded.ToDictionary(r => r.Step, StringComparer.OrdinalIgnoreCase);
            run = store.FindRun(point.RunId);
        }

        return new ResumeScope(point, graph, store, pipeline, runSteps, run);
    }

    /// <summary>The step's part in the resumed run; null for a step neither upstream nor downstream of the named one (it runs as usual).</summary>
    public ResumeRole? RoleOf(string step) =>
        _executes.Contains(step) ? ResumeRole.Executes : _restoreOnly.Contains(step) ? ResumeRole.RestoreOnly : null;

    /// <summary>
    /// For a <see cref="ResumeRole.RestoreOnly"/> step: the entry to restore, or why there is none (the text after
    /// "but" in MLP2007, <see cref="Unavailable"/>). Expiry, <c>EnableCache</c> and <c>PipelineForce</c> do not
    /// apply: such a step may only be restored.
    /// </summary>
    public (CacheEntry? Entry, string? Problem) Find(StepDefinition step, StepKey key)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(key);
        if (_runSteps is not null)
        {
            if (!_runSteps.TryGetValue(step.Name, out var recorded) || recorded.Key is null || recorded.Outcome is not ("cached" or "executed"))
            {
                return (null, $"run {Point.RunId} has no result of step '{step.Name}'");
            }

            if (recorded.Key != key.Value)
            {
                var what = recorded.Components is { } before ? MissExplainer.Explain(before, key.Components) : "its key differs";
                return (null, $"the inputs of step '{step.Name}' changed since run {Point.RunId} ({what})");
            }
        }

        if (_store.FindEntry(key.Value) is { } entry)
        {
            // With a run id, the result that run used, not merely one of the same key: a later run (PipelineForce,
            // an expired or disabled cache) replaces the entry of a key with what it wrote, which for a step that is
            // not reproducible is another result. The run's own entry carries its id; an entry it restored was
            // created before it ended. Anything newer is not what the run recorded.
            if (_runSteps is not null && !RecordedBy(entry, _runSteps[step.Name]))
            {
                return (null, $"the result run {Point.RunId} recorded for step '{step.Name}' is gone (replaced by a later run)");
            }

            return (entry, null);
        }

        // Without a run id, "changed since" is against the step's newest result: name what changed, as a miss does.
        return (null, _runSteps is null && NewestEntryOf(step) is { } newest
            ? $"the inputs of step '{step.Name}' changed since its newest cached result ({MissExplainer.Explain(newest.Components, key.Components)})"
            : $"the cached result of step '{step.Name}' for its current inputs is gone (cleared, pruned or never recorded)");
    }

    /// <summary>
    /// Whether <paramref name="entry"/> can be the one the named run executed or restored: a step it executed has its
    /// result only in an entry that run stored (none when the run did not store it, e.g. MLP2009); a step it restored,
    /// in an entry created before the run ended. An entry that names no run (stored by an older engine) is judged by
    /// its time alone.
    /// </summary>
    private bool RecordedBy(CacheEntry entry, StepRunRecord recorded) =>
        string.Equals(entry.RunId, Point.RunId, StringComparison.Ordinal)
        || ((recorded.Outcome == "cached" || entry.RunId is null) && _run is { } run && entry.CreatedAt <= (run.EndedAt ?? run.StartedAt));

    /// <summary>The message of error MLP2007 for a restore-only step that cannot be restored, and what to do.</summary>
    public string Unavailable(string step, string problem) =>
        $"Cannot resume from '{Point.Step}': upstream step '{step}' must be restored, not executed, but {problem}. Run the pipeline without PipelineResumeFrom, or resume from '{step}'.";

    private CacheEntry? NewestEntryOf(StepDefinition step)
    {
        try
        {
            return _store.FindNewestEntry(_pipeline, step.Name);
        }
        catch (CorruptEntryException)
        {
            return null;
        }
    }
}
