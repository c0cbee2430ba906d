using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Graph;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Keys;
using MLPipelines.Engine.Paths;
using MLPipelines.Engine.Store;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// Runs a validated pipeline: steps in dependency order, independent ones in parallel, each one's key computed only
/// once its upstream steps are done, then restored from the store on a hit or executed and stored on a miss.
/// </summary>
public sealed class PipelineRunner
{
    private readonly PipelineOptions _options;
    private readonly PipelineGraph _graph;
    private readonly CacheStore _store;
    private readonly IPipelineLog _log;
    private readonly TimeProvider _clock;
    private readonly FileHasher _hasher;
    private readonly StepKeyCalculator _keys;
    private readonly CacheLookup _lookup;
    private CancellationToken _cancellation;
    private readonly Dictionary<string, string> _producedKeys = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _producedLock = new();

    public PipelineRunner(PipelineOptions options, PipelineGraph graph, CacheStore store, IPipelineLog log, TimeProvider? clock = null)
    {
        _options = options;
        _graph = graph;
        _store = store;
        _log = log;
        _clock = clock ?? TimeProvider.System;
        _hasher = new FileHasher(store.LoadFileStamps());
        _keys = new StepKeyCalculator(options.ProjectDirectory, options.PipelineName, _hasher, store.Secret())
        {
            ProjectSources = options.ProjectSources,
            KeyCommandRunner = step => KeyCommand.Run(step, options.ProjectDirectory, log, _cancellation),
        };
        _lookup = new CacheLookup(options, store, log, _clock);
    }

    /// <summary>How many files this run actually read to hash (the rest were known unchanged).</summary>
    public int FilesHashed => _hasher.FilesRead;

    public async Task<PipelineRunResult> RunAsync(CancellationToken cancellationToken)
    {
        _cancellation = cancellationToken;
        var started = _clock.GetUtcNow();
        var runId = started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
        var run = new RunRecord(runId, _options.PipelineName, started, "running", null);
        _store.StartRun(run);

        var selected = _options.SelectedSteps.Count == 0
            ? _graph.Steps.Select(s => s.Name).ToHashSet(StringComparer.OrdinalIgnoreCase)
            : _graph.WithUpstream(_options.SelectedSteps);
        var steps = _graph.Steps.Where(s => selected.Contains(s.Name)).ToList();
        var results = new Dictionary<string, StepRun>(StringComparer.OrdinalIgnoreCase);
        var running = new Dictionary<Task<StepRun>, string>();

        while (true)
        {
            foreach (var step in steps.Where(s => !results.ContainsKey(s.Name) && !running.ContainsValue(s.Name)))
            {
                var upstream = _graph.UpstreamOf(step.Name).Where(selected.Contains).ToList();
                var blocker = upstream.FirstOrDefault(u => results.TryGetValue(u, out var r) && r.Result.Outcome is StepOutcome.Failed or StepOutcome.NotRun);
                if (blocker is not null || cancellationToken.IsCancellationRequested)
                {
                    var why = blocker is null ? "the build was cancelled" : $"upstream step {blocker} did not succeed";
                    _log.Message($"Step {step.Name} was not run: {why}.");
                    results[step.Name] = new StepRun(new StepResult(step.Name, StepOutcome.NotRun, null, TimeSpan.Zero, why), null, _clock.GetUtcNow());
                }
                else if (upstream.All(results.ContainsKey) && running.Count < Math.Max(1, _options.MaxParallelism))
                {
                    running[Task.Run(() => RunStepAsync(step, runId, cancellationToken), CancellationToken.None)] = step.Name;
                }
            }

            if (running.Count == 0)
            {
                break;
            }

            var done = await Task.WhenAny(running.Keys).ConfigureAwait(false);
            results[running[done]] = await done.ConfigureAwait(false);
            running.Remove(done);
        }

        var ordered = steps.Select(s => results[s.Name]).ToList();
        var result = new PipelineRunResult(runId, ordered.Select(r => r.Result).ToList(), _clock.GetUtcNow() - started);
        _store.SaveFileStamps(_hasher.StampsToPersist(_clock.GetUtcNow().UtcDateTime));
        _store.FinishRun(
            run with { EndedAt = _clock.GetUtcNow(), Status = cancellationToken.IsCancellationRequested ? "cancelled" : result.Succeeded ? "succeeded" : "failed" },
            ordered.Select(r => new StepRunRecord(r.Result.Name, r.Result.Key, r.Components, r.Result.Outcome.ToString().ToLowerInvariant(), r.Result.MissReason, r.StartedAt, r.Result.Duration)).ToList());
        _log.Message(Summary(result));
        return result;
    }

    private string Summary(PipelineRunResult result)
    {
        var total = result.Steps.Count;
        var cached = result.Count(StepOutcome.Cached);
        var parts = new List<string> { $"{total} steps", $"{cached} cached", $"{result.Count(StepOutcome.Executed)} executed" };
        if (result.Count(StepOutcome.Failed) is > 0 and var failed)
        {
            parts.Add($"{failed} failed");
        }

        if (result.Count(StepOutcome.NotRun) is > 0 and var notRun)
        {
            parts.Add($"{notRun} not run");
        }

        var hitRate = total == 0 ? 0 : (int)Math.Round(100.0 * cached / total);
        return string.Create(CultureInfo.InvariantCulture, $"Pipeline {_options.PipelineName}: {string.Join(", ", parts)}, hit rate {hitRate}%, {result.Duration.TotalSeconds:0.0}s.");
    }

    private sealed record StepRun(StepResult Result, IReadOnlyList<KeyComponent>? Components, DateTimeOffset StartedAt);

    private async Task<StepRun> RunStepAsync(StepDefinition step, string runId, CancellationToken cancellationToken)
    {
        var startedAt = _clock.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        _log.Message($"Step {step.Name} has started.");

        StepRun Finish(StepOutcome outcome, StepKey? key, string? reason) =>
            new(new StepResult(step.Name, outcome, key?.Value, stopwatch.Elapsed, reason), key?.Components, startedAt);

        StepKey key;
        try
        {
            key = _keys.Compute(step, ProducerKeyOf);
        }
        catch (MissingKeyFileException e)
        {
            Error(ErrorCodes.InputMissing, step, $"{e.Kind} '{e.Path}' of step '{step.Name}' does not exist. Create it, produce it in an upstream step, or remove it from the step.");
            return Finish(StepOutcome.Failed, null, e.Message);
        }
        catch (KeyCommandFailedException e)
        {
            Error(ErrorCodes.CacheKeyCommandFailed, step, $"The CacheKeyCommand of step '{step.Name}' failed with exit code {e.ExitCode}, so its key is unknown and the step does not run. Fix the command: '{step.CacheKeyCommand}'.");
            return Finish(StepOutcome.Failed, null, e.Message);
        }
        catch (OperationCanceledException)
        {
            return Finish(StepOutcome.NotRun, null, "the build was cancelled");
        }

        var (entry, reason) = _lookup.Find(step, key);
        if (entry is not null)
        {
            var problem = TryRestore(entry, out var restored);
            if (problem is null)
            {
                _log.Message($"Using cached version of {step.Name}.");
                if (restored > 0)
                {
                    _log.Message($"Restored {restored} output file{(restored == 1 ? "" : "s")} of {step.Name} from the cache.");
                }

                Produced(step, key);
                return Finish(StepOutcome.Cached, key, null);
            }

            Warning(ErrorCodes.DamagedEntry, step, $"The cached result of step '{step.Name}' is damaged ({problem}); the step executes instead and its entry is replaced.");
            _store.DeleteEntry(entry.Key);
            reason = "cached result damaged";
        }

        _log.Message($"Cache miss for {step.Name}: {reason}.");
        var failure = await ExecuteAsync(step, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            return Finish(StepOutcome.Failed, key, failure);
        }

        StoreResult(step, key, startedAt, stopwatch.Elapsed, runId);
        Produced(step, key);
        _log.Message(string.Create(CultureInfo.InvariantCulture, $"Step {step.Name} has finished in {stopwatch.Elapsed.TotalSeconds:0.000}s."));
        return Finish(StepOutcome.Executed, key, reason);
    }

    /// <summary>
    /// Restores an entry's outputs that are missing or differ, leaving matching files alone. Every object is copied
    /// and verified under a temporary name first, so a damaged entry is found before any output is touched.
    /// Returns null on success, else what is wrong with the entry.
    /// </summary>
    private string? TryRestore(CacheEntry entry, out int restored)
    {
        restored = 0;
        var staged = new List<(string Temp, string Target, ManifestFile File)>();
        foreach (var file in entry.Manifest)
        {
            var target = ProjectPath.ToFull(_options.ProjectDirectory, file.Path);
            if (File.Exists(target) && new FileInfo(target).Length == file.Size && _hasher.Hash(target) == file.Hash)
            {
                continue;
            }

            var temp = _store.Objects.StageCopy(file.Hash, target);
            if (temp is null)
            {
                staged.ForEach(s => ObjectStore.TryDelete(s.Temp));
                _store.Objects.Remove(file.Hash);
                return $"the stored object for {file.Path} is missing or altered";
            }

            staged.Add((temp, target, file));
        }

        foreach (var (temp, target, file) in staged)
        {
            if (!OperatingSystem.IsWindows() && file.Mode != 0)
            {
                File.SetUnixFileMode(temp, (UnixFileMode)file.Mode);
            }

            File.Move(temp, target, overwrite: true);
            _hasher.Remember(target, file.Size, File.GetLastWriteTimeUtc(target).Ticks, file.Hash);
        }

        foreach (var directory in entry.Directories)
        {
            Directory.CreateDirectory(ProjectPath.ToFull(_options.ProjectDirectory, directory));
        }

        _store.TouchEntry(entry.Key, _clock.GetUtcNow());
        restored = staged.Count;
        return null;
    }

    /// <summary>Runs the step's command; returns null on success, else why it failed (already logged as an error).</summary>
    private async Task<string?> ExecuteAsync(StepDefinition step, CancellationToken cancellationToken)
    {
        var workingDirectory = ProjectPath.ToFull(_options.ProjectDirectory, step.WorkingDirectory);
        int exitCode;
        try
        {
            Directory.CreateDirectory(workingDirectory);
            exitCode = await StepProcess.RunAsync(step.Command, workingDirectory, StepProcess.EnvironmentOf(step),
                line => _log.StepOutput(step.Name, line), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Error(ErrorCodes.StepCancelled, step, $"Step '{step.Name}' was cancelled; its processes were stopped and nothing of it was cached.");
            return "cancelled";
        }
        catch (Exception e) when (e is Win32Exception or IOException or UnauthorizedAccessException)
        {
            Error(ErrorCodes.StepCouldNotStart, step, $"Step '{step.Name}' could not start its command: {e.Message}");
            return "could not start";
        }

        if (exitCode != 0)
        {
            Error(ErrorCodes.StepFailed, step, $"Step '{step.Name}' failed with exit code {exitCode}. Its result is not cached; steps that depend on it do not run.");
            return $"exit code {exitCode}";
        }

        var missing = step.Outputs.Where(o => !File.Exists(ProjectPath.ToFull(_options.ProjectDirectory, o)) && !Directory.Exists(ProjectPath.ToFull(_options.ProjectDirectory, o))).ToList();
        if (missing.Count > 0)
        {
            Error(ErrorCodes.OutputMissing, step,
                $"Step '{step.Name}' succeeded but did not write its declared output{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing.Select(m => $"'{m}'"))}. Its result is not cached: fix the command or the Outputs.");
            return "missing outputs";
        }

        return null;
    }

    /// <summary>Copies the outputs into <c>objects/</c>, then records the entry; a store failure costs the cache, not the build.</summary>
    private void StoreResult(StepDefinition step, StepKey key, DateTimeOffset createdAt, TimeSpan duration, string runId)
    {
        try
        {
            var manifest = new List<ManifestFile>();
            var directories = new List<string>();
            foreach (var output in step.Outputs)
            {
                var full = ProjectPath.ToFull(_options.ProjectDirectory, output);
                if (Directory.Exists(full))
                {
                    directories.Add(output.TrimEnd('/') + "/");
                }

                foreach (var file in InputFiles.Expand(_options.ProjectDirectory, output, out _))
                {
                    var fullFile = ProjectPath.ToFull(_options.ProjectDirectory, file);
                    var (hash, size) = _store.Objects.Add(fullFile);
                    var mode = OperatingSystem.IsWindows() ? 0 : (int)File.GetUnixFileMode(fullFile);
                    manifest.Add(new ManifestFile(file, hash, size, mode));
                }
            }

            _store.RecordEntry(new CacheEntry
            {
                Pipeline = _options.PipelineName,
                Step = step.Name,
                Key = key.Value,
                CreatedAt = createdAt,
                Duration = duration,
                Components = key.Components,
                Manifest = manifest,
                Directories = directories,
                RunId = runId,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            Warning(ErrorCodes.StoreWriteFailed, step, $"The result of step '{step.Name}' could not be stored ({e.Message}); the next run executes it again.");
        }
    }

    private void Produced(StepDefinition step, StepKey key)
    {
        lock (_producedLock)
        {
            _producedKeys[step.Name] = key.Value;
        }
    }

    /// <summary>For <c>IncludeArtifactIds</c>: the key of the step whose declared output holds <paramref name="file"/>.</summary>
    private string? ProducerKeyOf(string file)
    {
        var producer = _graph.Steps.FirstOrDefault(s => s.Outputs.Any(o => ProjectPath.IsUnder(file, o)));
        if (producer is null)
        {
            return null;
        }

        lock (_producedLock)
        {
            return _producedKeys.GetValueOrDefault(producer.Name);
        }
    }

    private void Error(string code, StepDefinition step, string message) => _log.Error(new PipelineDiagnostic(code, step.Name, message));

    private void Warning(string code, StepDefinition step, string message) => _log.Warning(new PipelineDiagnostic(code, step.Name, message));
}
