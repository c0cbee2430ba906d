using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Graph;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Keys;
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

public sealed record PlannedStep(string Name, PlanStatus Status, string Reason, string? Key);

/// <summary>
/// A dry run: the same key computation and cache lookup as <see cref="PipelineRunner"/>, in dependency order,
/// without running any step command (a <c>CacheKeyCommand</c> does run: it is part of the key). Upstream hits count
/// as restored: their manifests stand in for files that are not on disk yet.
/// </summary>
public sealed class PipelinePlanner
{
    private readonly PipelineOptions _options;
    private readonly PipelineGraph _graph;
    private readonly CacheStore _store;
    private readonly StepKeyCalculator _keys;
    private readonly CacheLookup _lookup;
    private readonly IPipelineLog _log;

    public PipelinePlanner(PipelineOptions options, PipelineGraph graph, CacheStore store, IPipelineLog log, TimeProvider? clock = null, CancellationToken cancellationToken = default)
    {
        _options = options;
        _graph = graph;
        _store = store;
        _keys = new StepKeyCalculator(options.ProjectDirectory, options.PipelineName, new FileHasher(store.LoadFileStamps()), options.RemoteCache?.SharedEnvironmentSecret ?? store.Secret())
        {
            ProjectSources = options.ProjectSources,
            StoreDirectory = options.CacheDirectory,
            KeyCommandRunner = step => KeyCommand.Run(step, options.ProjectDirectory, log, cancellationToken, options.StrictEnvironment),
            InferredUpstreamOf = graph.InferredWholeUpstreamOf,
            ToolVersions = options.ToolVersions,
            KeyPlatformByDefault = options.KeyPlatform,
            StrictEnvironment = options.StrictEnvironment is not null,
        };
        _lookup = new CacheLookup(options, store, log, clock ?? TimeProvider.System);
        _log = log;
    }

    public IReadOnlyList<PlannedStep> Plan()
    {
        var selected = _options.SelectedSteps.Count == 0
            ? _graph.Steps.Select(s => s.Name).ToHashSet(StringComparer.OrdinalIgnoreCase)
            : _graph.WithUpstream(_options.SelectedSteps);
        var plan = new Dictionary<string, PlannedStep>(StringComparer.OrdinalIgnoreCase);
        var restoredFiles = new Dictionary<string, string>(StringComparer.Ordinal);
        var restoredOutputs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        foreach (var step in _graph.Steps.Where(s => selected.Contains(s.Name)))
        {
            var executing = _graph.UpstreamOf(step.Name).Where(u => plan.TryGetValue(u, out var p) && p.Status != PlanStatus.Hit).ToList();
            plan[step.Name] = executing.Count > 0
                ? new PlannedStep(step.Name, _lookup.AlwaysExecutes(step) ? PlanStatus.Miss : PlanStatus.Pending,
                    _lookup.AlwaysExecutes(step) ? (_lookup.IsForced(step) ? "forced" : "cache disabled") : $"waits for {string.Join(", ", executing)}", null)
                : PlanOne(step, plan, restoredFiles, restoredOutputs);
        }

        return _graph.Steps.Where(s => selected.Contains(s.Name)).Select(s => plan[s.Name]).ToList();
    }

    /// <param name="restoredOutputs">The <see cref="OutputsDigest"/> of each upstream hit, by step: an upstream that will execute makes this step pending instead.</param>
    private PlannedStep PlanOne(StepDefinition step, Dictionary<string, PlannedStep> plan, Dictionary<string, string> restoredFiles, Dictionary<string, string> restoredOutputs)
    {
        StepKey key;
        try
        {
            key = _keys.Compute(step, file => ProducerOutputsOf(file, restoredOutputs), restoredFiles, restoredOutputs.GetValueOrDefault);
            key.Warnings.ToList().ForEach(_log.Warning);
        }
        catch (MissingKeyFileException e)
        {
            return new PlannedStep(step.Name, PlanStatus.Miss, $"{e.Message} (the run will fail)", null);
        }
        catch (KeyCommandFailedException e)
        {
            return new PlannedStep(step.Name, PlanStatus.Miss, $"{e.Message} (the run will fail)", null);
        }

        var (entry, reason) = _lookup.Find(step, key);
        if (entry is null)
        {
            return new PlannedStep(step.Name, PlanStatus.Miss, reason, key.Value);
        }

        if (entry.Manifest.Any(f => !_store.Objects.Contains(f.Hash)))
        {
            return new PlannedStep(step.Name, PlanStatus.Miss, "cached result damaged", key.Value);
        }

        foreach (var file in entry.Manifest)
        {
            restoredFiles[file.Path] = file.Hash;
        }

        restoredOutputs[step.Name] = OutputsDigest.Of(entry);
        // A restored output directory exists even when empty: a '/' path marks it, no file (see InputFiles.Expand).
        foreach (var directory in entry.Directories)
        {
            restoredFiles[directory] = "";
        }

        return new PlannedStep(step.Name, PlanStatus.Hit, "", key.Value);
    }

    // As in the run: the producer's outputs by content (an upstream hit's entry), never its key.
    private string? ProducerOutputsOf(string file, Dictionary<string, string> restoredOutputs) =>
        _graph.ProducerOf(file) is { } producer ? restoredOutputs.GetValueOrDefault(producer) : null;
}
