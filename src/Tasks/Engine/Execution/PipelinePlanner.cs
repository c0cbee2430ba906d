using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Graph;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Keys;
using MLPipelines.Engine.Remote;
using MLPipelines.Engine.Store;

namespace MLPipelines.Engine.Execution;

/// <summary>What <c>PlanPipeline</c> expects of one step.</summary>
public enum PlanStatus
{
    /// <summary>A usable entry exists: the run will restore it.</summary>
    Hit,

    /// <summary>The run will execute the step; the reason says why.</summary>
    Miss,

    /// <summary>An upstream step will execute, so this step's inputs are not known yet.</summary>
    Pending,
}

/// <summary>One step of a plan.</summary>
/// <param name="Reason">Why it misses or waits; for a hit, what the restore would change or that a resume restores it; else empty.</param>
/// <param name="Key">The step's key; null while it is pending or when it cannot be computed.</param>
public sealed record PlannedStep(string Name, PlanStatus Status, string Reason, string? Key)
{
    /// <summary>Its part in a resumed run (<c>PipelineResumeFrom</c>); null without one, or for a step the resume does not touch.</summary>
    public ResumeRole? Resume { get; init; }

    /// <summary>
    /// The run fails at this step before it executes anything: its key cannot be computed (a missing input, a failing
    /// <c>CacheKeyCommand</c>), or a resume cannot restore it (MLP2007). Its downstream steps will not run.
    /// </summary>
    public bool Fails { get; init; }

    /// <summary>For a hit: what the run's restore changes among its outputs (edited, deleted, extra paths); null otherwise.</summary>
    public RestorePreview? Restore { get; init; }

    /// <summary>For a hit: the run restores it from the remote cache (<c>PipelineRemoteCache</c>), the local store lacking it.</summary>
    public bool Remote { get; init; }

    /// <summary>The status as the plan and the graph show it: <c>hit</c>, <c>miss (reason)</c>, <c>pending (waits for X)</c>.</summary>
    public string StatusText => Status.ToString().ToLowerInvariant() + (Reason.Length > 0 ? $" ({Reason})" : "");
}

/// <summary>
/// A dry run: the same key computation and cache lookup as <see cref="PipelineRunner"/>, in dependency order,
/// without running any step command (a <c>CacheKeyCommand</c> does run: it is part of the key). Upstream hits count
/// as restored: their manifests stand in for files that are not on disk yet. A resume (<see cref="ResumeScope"/>) and
/// a hit's restore (<see cref="OutputRestorer.Preview"/>) are predicted by the code the run uses.
/// </summary>
public sealed class PipelinePlanner
{
    private readonly PipelineOptions _options;
    private readonly PipelineGraph _graph;
    private readonly CacheStore _store;
    private readonly StepKeyCalculator _keys;
    private readonly CacheLookup _lookup;
    private readonly IPipelineLog _log;
    private readonly OutputRestorer _outputs;
    private readonly RemoteCache? _remote;
    private readonly CancellationToken _cancellation;

    /// <param name="remote">
    /// The remote cache, asked read-only (<see cref="RemoteCache.PeekAsync"/>) where the run would fetch from it: on a
    /// local miss of a step whose cache is on. Null: no remote cache, or none to ask.
    /// </param>
    public PipelinePlanner(PipelineOptions options, PipelineGraph graph, CacheStore store, IPipelineLog log, TimeProvider? clock = null, RemoteCache? remote = null, CancellationToken cancellationToken = default)
    {
        _remote = remote;
        _cancellation = cancellationToken;
        _options = options;
        _graph = graph;
        _store = store;
        var hasher = new FileHasher(store.LoadFileStamps());
        _keys = new StepKeyCalculator(options.ProjectDirectory, options.PipelineName, hasher, options.RemoteCache?.SharedEnvironmentSecret ?? store.Secret())
        {
            ProjectSources = options.ProjectSources,
            StoreDirectory = options.CacheDirectory,
            KeyCommandRunner = step => KeyCommand.Run(step, options.ProjectDirectory, log, cancellationToken, options.StrictEnvironment),
            InferredUpstreamOf = graph.InferredWholeUpstreamOf,
            ToolVersions = options.ToolVersions,
            KeyPlatformByDefault = options.KeyPlatform,
            StrictEnvironment = options.StrictEnvironment is not null,
        };
        _lookup = new CacheLookup(options, store, log, clock ?? TimeProvider.System) { DryRun = true };
        _log = log;
        _outputs = new OutputRestorer(options.ProjectDirectory, store.Objects, hasher, options.StoreDirectoryInProject);
    }

    /// <summary>
    /// The plan of the selected steps (<c>PipelineSteps</c> and what they need; with <c>PipelineResumeFrom</c>, also
    /// the named step and its upstream steps, as the run adds them), in the graph's order. Null, with error MLP1017
    /// logged, when <c>PipelineResumeFrom</c> names a run the store has no record of: the run would fail at once.
    /// </summary>
    public IReadOnlyList<PlannedStep>? Plan()
    {
        var selected = _options.SelectedSteps.Count == 0
            ? _graph.Steps.Select(s => s.Name).ToHashSet(StringComparer.OrdinalIgnoreCase)
            : _graph.WithUpstream(_options.SelectedSteps);
        ResumeScope? resume = null;
        if (_options.ResumeFrom is { } point)
        {
            resume = ResumeScope.Open(point, _graph, _store, _options.PipelineName, _log);
            if (resume is null)
            {
                return null;
            }

            selected.UnionWith(resume.Needed);
        }

        var plan = new Dictionary<string, PlannedStep>(StringComparer.OrdinalIgnoreCase);
        // Steps downstream of one the run fails at: the run does not start them, whatever their settings say.
        var blocked = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var restoredFiles = new Dictionary<string, string>(StringComparer.Ordinal);
        var restoredOutputs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        // What the upstream hits' restores remove first (extra files and folders in their outputs, replaced paths):
        // the run computes downstream keys after the restore, so a glob or folder input must not see them.
        var removedPaths = new List<string>();

        foreach (var step in _graph.Steps.Where(s => selected.Contains(s.Name)))
        {
            var role = resume?.RoleOf(step.Name);
            var executing = _graph.UpstreamOf(step.Name).Where(u => plan.TryGetValue(u, out var p) && p.Status != PlanStatus.Hit).ToList();
            if (executing.Any(u => plan[u].Fails || blocked.Contains(u)))
            {
                blocked.Add(step.Name);
            }

            plan[step.Name] = executing.Count == 0 ? PlanOne(step, role, resume, restoredFiles, restoredOutputs, removedPaths) with { Resume = role }
                : blocked.Contains(step.Name) ? new PlannedStep(step.Name, PlanStatus.Pending, $"waits for {string.Join(", ", executing)}", null) { Resume = role }
                // Its inputs are not known yet, but a step that executes whatever they are says so, with the run's reason.
                : role == ResumeRole.Executes ? new PlannedStep(step.Name, PlanStatus.Miss, resume!.Reason, null) { Resume = role }
                : role is null && _lookup.AlwaysExecutes(step) ? new PlannedStep(step.Name, PlanStatus.Miss, _lookup.IsForced(step) ? "forced" : "cache disabled", null)
                : new PlannedStep(step.Name, PlanStatus.Pending, $"waits for {string.Join(", ", executing)}", null) { Resume = role };
        }

        var ordered = _graph.Steps.Where(s => selected.Contains(s.Name)).ToList();
        return ordered.Select(s => StoppedByFailFast(s, ordered, plan, blocked) ?? plan[s.Name]).ToList();
    }

    /// <summary>
    /// Fail fast (the default): once a step fails, the run starts no new step, not even a hit. When the plan predicts a
    /// failure, a step is shown as it would run only if the run surely starts it before any failure: one of the first
    /// <c>PipelineMaxParallelism</c> steps with nothing upstream (the run starts them all at once, in this order), or
    /// a step upstream of every failing step (each must be done before that step can start and fail). Any other step
    /// may or may not start, depending on timing: it is pending, with how to run it. Null: the step keeps its plan.
    /// </summary>
    private PlannedStep? StoppedByFailFast(StepDefinition step, List<StepDefinition> ordered, Dictionary<string, PlannedStep> plan, HashSet<string> blocked)
    {
        var planned = plan[step.Name];
        if (_options.ContinueOnError || planned.Fails || blocked.Contains(step.Name))
        {
            return null;
        }

        var failing = ordered.Where(s => plan[s.Name].Fails).Select(s => s.Name).ToList();
        if (failing.Count == 0)
        {
            return null;
        }

        var selected = ordered.Select(s => s.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var firstWave = ordered.Where(s => !_graph.UpstreamOf(s.Name).Any(selected.Contains)).Take(Math.Max(1, _options.MaxParallelism));
        if (firstWave.Any(s => s.Name.Equals(step.Name, StringComparison.OrdinalIgnoreCase))
            || failing.All(f => _graph.WithUpstream([f]).Contains(step.Name)))
        {
            return null;
        }

        var after = failing.Count == 1 ? failing[0] : $"the first of {string.Join(", ", failing)}";
        return new PlannedStep(step.Name, PlanStatus.Pending, $"the run stops after {after} fails; PipelineContinueOnError=true runs it", null)
        {
            Resume = planned.Resume,
        };
    }

    /// <param name="restoredOutputs">The <see cref="OutputsDigest"/> of each upstream hit, by step: an upstream that will execute makes this step pending instead.</param>
    private PlannedStep PlanOne(StepDefinition step, ResumeRole? role, ResumeScope? resume, Dictionary<string, string> restoredFiles, Dictionary<string, string> restoredOutputs, List<string> removedPaths)
    {
        StepKey key;
        try
        {
            key = _keys.Compute(step, file => ProducerOutputsOf(file, restoredOutputs), restoredFiles, restoredOutputs.GetValueOrDefault, removedPaths);
            key.Warnings.ToList().ForEach(_log.Warning);
        }
        catch (MissingKeyFileException e)
        {
            return new PlannedStep(step.Name, PlanStatus.Miss, $"{e.Message} (the run will fail)", null) { Fails = true };
        }
        catch (KeyCommandFailedException e)
        {
            // Why, as the run's MLP2006 says it: the end of the key command's standard error.
            return new PlannedStep(step.Name, PlanStatus.Miss, $"{e.Message}{e.ErrorTail} (the run will fail)", null) { Fails = true };
        }

        if (role == ResumeRole.Executes)
        {
            return new PlannedStep(step.Name, PlanStatus.Miss, resume!.Reason, key.Value);
        }

        CacheEntry? entry;
        var remote = false;
        if (role == ResumeRole.RestoreOnly)
        {
            (entry, var problem) = resume!.Find(step, key);
            if (entry is null)
            {
                return CannotResume(step, problem!, key);
            }
        }
        else
        {
            (entry, var reason) = _lookup.Find(step, key);
            // As the run: a local miss of a step whose cache is on asks the remote cache, whose objects the run
            // fetches before it restores (so they count as there).
            if (entry is null && _remote is not null && !_lookup.AlwaysExecutes(step))
            {
                entry = _remote.PeekAsync(step, key, e => _outputs.Validate(e, step.Outputs), _cancellation).GetAwaiter().GetResult();
                remote = entry is not null;
            }

            if (entry is null)
            {
                return new PlannedStep(step.Name, PlanStatus.Miss, reason, key.Value);
            }
        }

        var preview = _outputs.Preview(entry, step.Outputs, remote ? _ => true : null);
        if (preview.Damage is { } damage)
        {
            // The run finds the same damage before it touches an output, and executes the step instead.
            return role == ResumeRole.RestoreOnly
                ? CannotResume(step, $"the cached result of step '{step.Name}' is damaged ({damage})", key)
                : new PlannedStep(step.Name, PlanStatus.Miss, "cached result damaged", key.Value);
        }

        if (preview.Failure is { } failure)
        {
            return role == ResumeRole.RestoreOnly
                ? CannotResume(step, $"its outputs could not be restored ({failure})", key)
                : new PlannedStep(step.Name, PlanStatus.Miss, $"its outputs could not be restored ({failure})", key.Value);
        }

        foreach (var file in entry.Manifest)
        {
            restoredFiles[file.Path] = file.Hash;
        }

        restoredOutputs[step.Name] = OutputsDigest.Of(entry);
        // A replaced link keeps the view it had (its path is hashed on disk, not through the manifest).
        removedPaths.AddRange(preview.Removed.Where(p => !entry.Links.Any(l => l.Path == p.TrimEnd('/'))));
        // A restored output directory exists even when empty: a '/' path marks it, no file (see InputFiles.Expand).
        foreach (var directory in entry.Directories)
        {
            restoredFiles[directory] = "";
        }

        var why = new List<string>();
        if (remote)
        {
            why.Add("from the remote cache");
        }

        if (role == ResumeRole.RestoreOnly)
        {
            why.Add($"restored, not executed: resuming from {resume!.Point}");
        }

        why.AddRange(Describe(preview));
        return new PlannedStep(step.Name, PlanStatus.Hit, string.Join("; ", why), key.Value) { Restore = preview, Remote = remote };
    }

    /// <summary>A restore-only step of a resume that cannot be restored: the run fails there with MLP2007.</summary>
    private static PlannedStep CannotResume(StepDefinition step, string problem, StepKey key) =>
        new(step.Name, PlanStatus.Miss, $"cannot be restored for the resume: {problem}; the run will fail with {ErrorCodes.ResumeUnavailable}", key.Value) { Fails = true };

    // At most this many paths are named per kind of change; the JSON plan lists them all.
    private const int PathsShown = 5;

    /// <summary>
    /// What a hit's restore changes, in words: <c>would restore 2 edited, 1 deleted outputs: a.csv, b.csv, c.csv</c>
    /// and <c>would remove 1 path its entry does not hold: tmp.txt</c>; nothing when the outputs are in place.
    /// </summary>
    public static IEnumerable<string> Describe(RestorePreview preview)
    {
        ArgumentNullException.ThrowIfNull(preview);
        var restored = preview.Edited.Concat(preview.Deleted).ToList();
        if (restored.Count > 0)
        {
            var counts = new List<string>();
            if (preview.Edited.Count > 0)
            {
                counts.Add($"{preview.Edited.Count} edited");
            }

            if (preview.Deleted.Count > 0)
            {
                counts.Add($"{preview.Deleted.Count} deleted");
            }

            yield return $"would restore {string.Join(", ", counts)} output{(restored.Count == 1 ? "" : "s")}: {Paths(restored)}";
        }

        if (preview.Extra.Count > 0)
        {
            yield return $"would remove {preview.Extra.Count} path{(preview.Extra.Count == 1 ? "" : "s")} its entry does not hold: {Paths(preview.Extra)}";
        }
    }

    private static string Paths(IReadOnlyList<string> paths) =>
        string.Join(", ", paths.Take(PathsShown)) + (paths.Count > PathsShown ? $" and {paths.Count - PathsShown} more" : "");

    // As in the run: the producer's outputs by content (an upstream hit's entry), never its key.
    private string? ProducerOutputsOf(string file, Dictionary<string, string> restoredOutputs) =>
        _graph.ProducerOf(file) is { } producer ? restoredOutputs.GetValueOrDefault(producer) : null;
}
