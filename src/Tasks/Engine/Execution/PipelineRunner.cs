using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Graph;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Keys;
using MLPipelines.Engine.Paths;
using MLPipelines.Engine.Remote;
using MLPipelines.Engine.SourceControl;
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
    private readonly StepCache _cache;
    private readonly RemoteCache? _remote;
    private CancellationToken _cancellation;
    private CancellationToken _buildCancellation;
    private string? _failedUnexpectedly; // The first step that failed unexpectedly (MLP4003), which stopped the others.
    private readonly Dictionary<string, string?> _producedOutputs = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _producedLock = new();
    private ResumeScope? _resume;

    public PipelineRunner(PipelineOptions options, PipelineGraph graph, CacheStore store, IPipelineLog log, TimeProvider? clock = null)
    {
        _options = options;
        _graph = graph;
        _store = store;
        _log = log;
        _clock = clock ?? TimeProvider.System;
        var setup = Stopwatch.StartNew();
        _hasher = new FileHasher(store.LoadFileStamps());
        // Shared results need keys that agree across machines (RemoteCacheOptions.SharedEnvironmentSecret).
        _keys = new StepKeyCalculator(options.ProjectDirectory, options.PipelineName, _hasher, options.RemoteCache?.SharedEnvironmentSecret ?? store.Secret())
        {
            ProjectSources = options.ProjectSources,
            StoreDirectory = options.CacheDirectory,
            // Once per step and run: the key is computed again after the step to see whether its inputs changed,
            // and a custom key function is part of the key, not of what the step may change.
            KeyCommandRunner = step => _keyCommandOutputs.GetOrAdd(step.Name, _ => KeyCommand.Run(step, options.ProjectDirectory, log, _cancellation, options.StrictEnvironment)),
            InferredUpstreamOf = graph.InferredWholeUpstreamOf,
            ToolVersions = options.ToolVersions,
            KeyPlatformByDefault = options.KeyPlatform,
            StrictEnvironment = options.StrictEnvironment is not null,
        };
        _lookup = new CacheLookup(options, store, log, _clock);
        _cache = new StepCache(options, store, new OutputRestorer(options.ProjectDirectory, store.Objects, _hasher, options.StoreDirectoryInProject), _hasher, log, _clock);
        _remote = options.RemoteCache is { } remote ? new RemoteCache(remote, options, store, log, _clock) : null;
        _setupMilliseconds = setup.ElapsedMilliseconds;
    }

    private readonly long _setupMilliseconds;

    // Summed over steps, in Stopwatch ticks, for the -v:d phase line: from a step's start to its key, to its lookup
    // (so lookup includes key), and the restore of a hit.
    private long _keyTicks, _lookupTicks, _restoreTicks;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _keyCommandOutputs = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How many files this run actually read to hash (the rest were known unchanged).</summary>
    public int FilesHashed => _hasher.FilesRead;

    /// <summary>
    /// Runs the selected steps and records the run. The record is always closed (<c>succeeded</c>, <c>failed</c> or
    /// <c>cancelled</c>), and no step's process outlives this call, whatever happens in it.
    /// </summary>
    public async Task<PipelineRunResult> RunAsync(CancellationToken cancellationToken)
    {
        _buildCancellation = cancellationToken;
        var started = _clock.GetUtcNow();
        var runId = started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
        var phase = Stopwatch.StartNew();
        // Beside the steps, never before the first: collected after the last one (GitCommit.AnswerGrace).
        using var commitLookup = GitCommit.Start(_options.ProjectDirectory, _options.GitExecutable);
        var run = new RunRecord(runId, _options.PipelineName, started, "running", null) { Tools = _options.ToolVersions };

        var selected = _options.SelectedSteps.Count == 0
            ? _graph.Steps.Select(s => s.Name).ToHashSet(StringComparer.OrdinalIgnoreCase)
            : _graph.WithUpstream(_options.SelectedSteps);
        if (_options.ResumeFrom is { } resume)
        {
            _resume = ResumeScope.Open(resume, _graph, _store, _options.PipelineName, _log);
            if (_resume is null)
            {
                return new PipelineRunResult(runId, [], TimeSpan.Zero) { StartedAt = started, Status = "failed" };
            }

            selected.UnionWith(_resume.Needed);
        }

        // A busy store costs the run record, never the build (see StoreContention).
        var recorded = _cache.Contention.Try("the run record", null, () => _store.StartRun(run));

        // Stops every running step: the build's cancellation (Ctrl+C), or one step's unexpected failure.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _cancellation = stop.Token;
        var steps = _graph.Steps.Where(s => selected.Contains(s.Name)).ToList();
        var results = new Dictionary<string, StepRun>(StringComparer.OrdinalIgnoreCase);
        var running = new Dictionary<Task<StepRun>, string>();
        // The steps neither finished nor started, in order, each with its selected upstream steps: every step's end
        // looks through these only, without allocating (issue 9: a scan of every step with a list per step was
        // quadratic in allocations).
        var waiting = steps.Select(s => new WaitingStep(s, _graph.UpstreamOf(s.Name).Where(selected.Contains).ToArray())).ToList();
        ExceptionDispatchInfo? escaped = null;
        // Fail fast (the default): the first step that failed; from then on no new step starts, not even a hit.
        string? stoppedAfter = null;
        try
        {
            OutputRestorer.SweepStaging(_store.Objects);
            while (true)
            {
                var kept = 0;
                for (var i = 0; i < waiting.Count; i++)
                {
                    var (step, upstream) = waiting[i];
                    var blocker = FirstBlocker(upstream, results);
                    // The most specific reason first: a failed upstream step also explains it in fail-fast mode.
                    var why = blocker is not null ? NeedsReason(blocker, results)
                        : stop.IsCancellationRequested ? StopReason()
                        : stoppedAfter is not null ? $"stopped after {stoppedAfter} failed; set PipelineContinueOnError=true to keep going"
                        : null;
                    if (why is not null)
                    {
                        _log.Message($"Step {step.Name} was not run: {why}.");
                        results[step.Name] = NotRun(step, why);
                    }
                    else if (AllFinished(upstream, results) && running.Count < Math.Max(1, _options.MaxParallelism))
                    {
                        running[Task.Run(() => RunGuardedAsync(step, runId, stop), CancellationToken.None)] = step.Name;
                    }
                    else
                    {
                        waiting[kept++] = waiting[i];
                    }
                }

                waiting.RemoveRange(kept, waiting.Count - kept);

                if (running.Count == 0)
                {
                    break;
                }

                var done = await Task.WhenAny(running.Keys).ConfigureAwait(false);
                var finished = await done.ConfigureAwait(false);
                results[running[done]] = finished;
                running.Remove(done);
                if (finished.Result.Outcome == StepOutcome.Failed && !_options.ContinueOnError)
                {
                    stoppedAfter ??= finished.Result.Name;
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Not a step's failure (each step catches its own): the run's own work. Its steps are stopped and awaited,
            // the run is recorded as failed, and the task reports the failure (MLP4003).
            escaped = ExceptionDispatchInfo.Capture(e);
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var (task, name) in running)
            {
                results[name] = await task.ConfigureAwait(false);
            }
        }

        var uploads = await FinishUploadsAsync().ConfigureAwait(false);
        var ordered = steps.Select(s => results.GetValueOrDefault(s.Name) ?? NotRun(s, "the run stopped"))
            .Select(r => r with { Result = r.Result with { Cacheable = _lookup.CacheOn(_graph[r.Result.Name]) } }).ToList();
        var result = new PipelineRunResult(runId, ordered.Select(r => r.Result).ToList(), _clock.GetUtcNow() - started) { StartedAt = started, Tools = _options.ToolVersions };
        _log.Detail(string.Create(CultureInfo.InvariantCulture, $"Ran or restored {ordered.Count} steps in {phase.ElapsedMilliseconds} ms (setup before the runner: {_setupMilliseconds} ms; summed over steps: keys {_keyTicks * 1000 / Stopwatch.Frequency} ms, keys and lookups {_lookupTicks * 1000 / Stopwatch.Frequency} ms, restores {_restoreTicks * 1000 / Stopwatch.Frequency} ms)."));
        var status = cancellationToken.IsCancellationRequested ? "cancelled" : escaped is null && result.Succeeded ? "succeeded" : "failed";
        phase.Restart();
        // Ctrl+C ends the build at once: no wait for git then.
        var grace = cancellationToken.IsCancellationRequested ? TimeSpan.Zero : GitCommit.AnswerGrace;
        var (commit, answered) = await commitLookup.CollectAsync(grace).ConfigureAwait(false);
        _log.Detail(answered
            ? $"Run {runId}: git commit {commit ?? "none (no repository, or uncommitted changes)"}, waited {phase.ElapsedMilliseconds} ms for it after the last step."
            : $"Run {runId}: no git commit recorded: git did not answer within {grace.TotalMilliseconds:0} ms of the last step, so it was stopped.");
        result = result with { Status = status, GitCommit = commit };
        phase.Restart();
        _cache.MarkHitsUsed();
        result = result with { RemoteUploads = uploads };
        if (recorded)
        {
            _cache.Contention.Try("the run record", null, () => _store.FinishRun(
                run with { EndedAt = _clock.GetUtcNow(), Status = status, GitCommit = commit, RemoteUploads = uploads },
                ordered.Select(r => new StepRunRecord(r.Result.Name, r.Result.Key, r.Components, r.Result.Outcome.ToString().ToLowerInvariant(), r.Result.MissReason, r.StartedAt, r.Result.Duration) { Saved = r.Saved, Remote = r.Result.Remote, Cacheable = r.Result.Cacheable, Parameters = r.Result.Parameters, Metrics = r.Result.Metrics }).ToList()));
        }

        _cache.DeleteStaging();
        escaped?.Throw();

        _cache.Contention.Try("saving the file hash stamps", null, () => _store.SaveFileStamps(_hasher.StampsToPersist()));
        _log.Detail(string.Create(CultureInfo.InvariantCulture, $"Recorded the run and saved the hash stamps in {phase.ElapsedMilliseconds} ms."));
        _log.Message(Summary(result));
        foreach (var notRun in result.Steps.Where(s => s.Outcome == StepOutcome.NotRun))
        {
            _log.Message($"not run: {notRun.Name} ({notRun.MissReason})");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return result; // Ctrl+C ends the build at once: the cache limits wait for the next run.
        }

        phase.Restart();
        _cache.Contention.Try("applying the cache limits", null, Prune);
        _log.Detail($"Applied the cache limits in {phase.ElapsedMilliseconds} ms; {_hasher.FilesRead} files were read to hash, the rest were known unchanged.");
        return result;
    }

    /// <summary>
    /// The build waits for the remote uploads still going (issue 10) and says how many went up; after Ctrl+C they
    /// stop at once.
    /// </summary>
    private async Task<int> FinishUploadsAsync()
    {
        if (_remote is null)
        {
            return 0;
        }

        using (_remote)
        {
            var uploads = await _remote.FinishUploadsAsync().ConfigureAwait(false);
            if (uploads > 0)
            {
                _log.Message($"Uploaded {uploads} entr{(uploads == 1 ? "y" : "ies")} to the remote cache.");
            }

            return uploads;
        }
    }

    /// <summary>The first of <paramref name="upstream"/> that finished without succeeding; null when none did (yet).</summary>
    private static string? FirstBlocker(string[] upstream, Dictionary<string, StepRun> results)
    {
        foreach (var name in upstream)
        {
            if (results.TryGetValue(name, out var r) && r.Result.Outcome is StepOutcome.Failed or StepOutcome.NotRun)
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>Why a step waiting for <paramref name="blocker"/> does not run: <c>needs train, which failed</c>.</summary>
    private static string NeedsReason(string blocker, Dictionary<string, StepRun> results) =>
        results[blocker].Result.Outcome == StepOutcome.Failed ? $"needs {blocker}, which failed" : $"needs {blocker}, which did not run";

    private static bool AllFinished(string[] upstream, Dictionary<string, StepRun> results)
    {
        foreach (var name in upstream)
        {
            if (!results.ContainsKey(name))
            {
                return false;
            }
        }

        return true;
    }

    private sealed record WaitingStep(StepDefinition Step, string[] Upstream);

    private StepRun NotRun(StepDefinition step, string why) =>
        new(new StepResult(step.Name, StepOutcome.NotRun, null, TimeSpan.Zero, why), _clock.GetUtcNow());

    /// <summary>
    /// One step, whatever happens in it: an exception no one expected (a bug, a busy database, a file system error
    /// nothing above names) fails this step with MLP4003 naming it and the exception's message; the other running
    /// steps are stopped (their processes killed) and no further step starts, since the engine's state is in doubt.
    /// The stack trace goes to the log at <c>-v:d</c> only.
    /// </summary>
    private async Task<StepRun> RunGuardedAsync(StepDefinition step, string runId, CancellationTokenSource stop)
    {
        var startedAt = _clock.GetUtcNow();
        try
        {
            var run = await RunStepAsync(step, runId, stop.Token).ConfigureAwait(false);
            return run.Result.Outcome == StepOutcome.Cached && _remote?.Fetched(step) == true ? run with { Result = run.Result with { Remote = true } } : run;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return NotRun(step, StopReason());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Interlocked.CompareExchange(ref _failedUnexpectedly, step.Name, null);
            Error(ErrorCodes.UnexpectedFailure, step,
                $"Step '{step.Name}' failed unexpectedly: {e.GetType().Name}: {e.Message} The other running steps were stopped and no further step starts. Please report this with the build log (-v:d shows details).");
            _log.Trace(e.ToString());
            await stop.CancelAsync().ConfigureAwait(false);
            return new StepRun(new StepResult(step.Name, StepOutcome.Failed, null, _clock.GetUtcNow() - startedAt, "failed unexpectedly"), startedAt);
        }
    }

    /// <summary>Why running steps were stopped and no new step starts: the build's cancellation, or a step's unexpected failure.</summary>
    private string StopReason() =>
        Volatile.Read(ref _failedUnexpectedly) is { } step && !_buildCancellation.IsCancellationRequested
            ? $"step {step} failed unexpectedly"
            : "the build was cancelled";

    /// <summary>
    /// The end-of-run limits (SPEC <c>PipelineCacheMaxAge</c>, <c>PipelineCacheMaxSize</c>). Scanning <c>objects/</c>
    /// for crash orphans costs a directory walk, so a run does it only when it removed entries or once a day.
    /// </summary>
    private void Prune()
    {
        var now = _clock.GetUtcNow();
        var scanDue = _store.MarkDue("last_gc", now, TimeSpan.FromDays(1));
        var report = _store.Prune(now, _options.CacheMaxAge, _options.CacheMaxSizeBytes, collectAlways: scanDue);
        if (report.Entries > 0 || report.Objects > 0)
        {
            _log.Message($"Pruned the pipeline cache: {report}.");
        }

        PruneRuns(_store, _options, now, _log);
    }

    /// <summary>
    /// The run history's limits (<c>PipelineCacheMaxAge</c>, <c>PipelineRunHistoryLimit</c>), applied with the cache's:
    /// after every run and by <c>PrunePipelineCache</c>.
    /// </summary>
    public static void PruneRuns(CacheStore store, PipelineOptions options, DateTimeOffset now, IPipelineLog log)
    {
        var runs = store.PruneRuns(now, options.CacheMaxAge, options.PipelineName, options.RunHistoryLimit);
        if (runs > 0)
        {
            log.Message($"Removed {runs} run record{(runs == 1 ? "" : "s")} (older than {options.CacheMaxAge}, or beyond the newest {options.RunHistoryLimit} of pipeline {options.PipelineName}).");
        }
    }

    private string Summary(PipelineRunResult result) =>
        string.Create(CultureInfo.InvariantCulture, $"Pipeline {_options.PipelineName}: {result.Counts()}, {result.HitRateText}, {result.Duration.TotalSeconds:0.0}s.");

    private sealed record StepRun(StepResult Result, DateTimeOffset StartedAt)
    {
        public IReadOnlyList<KeyComponent>? Components => Result.Components;

        /// <summary>For a hit: how long the run that produced the entry took to execute the step.</summary>
        public TimeSpan Saved => Result.Saved;
    }

    private async Task<StepRun> RunStepAsync(StepDefinition step, string runId, CancellationToken cancellationToken)
    {
        var startedAt = _clock.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        _log.Message($"Step {step.Name} has started.");

        // The entry restored (a hit) or stored (executed), if any: its outputs, and for a hit the time it saved.
        StepRun Finish(StepOutcome outcome, StepKey? key, string? reason, CacheEntry? entry = null) =>
            new(new StepResult(step.Name, outcome, key?.Value, stopwatch.Elapsed, reason)
            {
                Components = key?.Components,
                Outputs = entry?.Manifest,
                Saved = outcome == StepOutcome.Cached && entry is not null ? entry.Duration : TimeSpan.Zero,
                // Recorded per run (issue 11): what ListPipelineRuns shows as columns and PipelineCompare compares. A hit's
                // metrics are those of the file it restored, so every successful run has them.
                Parameters = key is null ? null : ParametersOf(step),
                Metrics = outcome is StepOutcome.Cached or StepOutcome.Executed ? MetricsOf(step) : null,
            }, startedAt);

        StepKey key;
        try
        {
            key = _keys.Compute(step, ProducerOutputsOf, upstreamOutputs: UpstreamOutputsOf);
            key.Warnings.ToList().ForEach(_log.Warning);
            Interlocked.Add(ref _keyTicks, stopwatch.ElapsedTicks);
        }
        catch (MissingKeyFileException e)
        {
            Error(ErrorCodes.InputMissing, step, $"{e.Kind} '{e.Path}' of step '{step.Name}' {e.Problem}. Create it, produce it in an upstream step, or remove it from the step.");
            return Finish(StepOutcome.Failed, null, e.Message);
        }
        catch (KeyCommandFailedException e) when (e.NotStarted is { } why)
        {
            Error(ErrorCodes.StepCouldNotStart, step, $"The CacheKeyCommand of step '{step.Name}' could not start: {why}. Its key is unknown, so the step does not run.");
            return Finish(StepOutcome.Failed, null, e.Message);
        }
        catch (KeyCommandFailedException e)
        {
            // The end of its standard error, as a failed step's MLP2001 carries: the reason, where -v:q and CI show it.
            Error(ErrorCodes.CacheKeyCommandFailed, step,
                $"The CacheKeyCommand of step '{step.Name}' failed with exit code {e.ExitCode}, so its key is unknown and the step does not run. Fix the command: '{step.CacheKeyCommand}'.{e.ErrorTail}");
            return Finish(StepOutcome.Failed, null, e.Message);
        }
        catch (OperationCanceledException)
        {
            return Finish(StepOutcome.NotRun, null, StopReason());
        }

        var role = _resume?.RoleOf(step.Name);
        if (role == ResumeRole.RestoreOnly)
        {
            return RestoreForResume(step, key, runId, Finish);
        }

        var (entry, reason) = role == ResumeRole.Executes ? (null, _resume!.Reason) : _lookup.Find(step, key);
        // Local hits first: a build with everything in the local store never asks the server.
        var remote = entry is null && _remote is not null && role != ResumeRole.Executes && !_lookup.AlwaysExecutes(step);
        if (remote)
        {
            entry = await _remote!.FetchAsync(step, key, e => _cache.Validate(step, e), cancellationToken).ConfigureAwait(false);
            remote = entry is not null;
        }

        var looked = stopwatch.ElapsedTicks;
        Interlocked.Add(ref _lookupTicks, looked);
        if (entry is not null)
        {
            var restored = _cache.Restore(step, entry, runId);
            Interlocked.Add(ref _restoreTicks, stopwatch.ElapsedTicks - looked);
            if (restored.Succeeded)
            {
                _cache.LogHit(step, restored, remote);
                if (_options.ReplayLogs)
                {
                    _cache.ReplayLog(step, entry);
                }

                Produced(step, OutputsDigest.Of(entry));
                return Finish(StepOutcome.Cached, key, null, entry);
            }

            reason = _cache.WhyNotRestored(step, entry, restored);
        }

        _log.Message($"Cache miss for {step.Name}: {reason}.");
        if (!step.PersistOutputs && _cache.ClearOutputs(step) is { } notCleared)
        {
            return Finish(StepOutcome.Failed, key, notCleared);
        }

        var output = new StepLog();
        var failure = await ExecuteAsync(step, output, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            return Finish(StepOutcome.Failed, key, failure);
        }

        CrashPoint.Fail(CrashPoint.StepExecuted, step.Name);

        var stored = InputsUnchanged(step, key) ? _cache.Store(step, key, startedAt, stopwatch.Elapsed, runId, output) : null;
        if (stored is not null)
        {
            _remote?.StartUpload(step, key, stored, _buildCancellation);
        }

        Produced(step, stored is null ? _cache.DigestOnDisk(step) : OutputsDigest.Of(stored));
        _log.Message(string.Create(CultureInfo.InvariantCulture, $"Step {step.Name} has finished in {stopwatch.Elapsed.TotalSeconds:0.000}s."));
        return Finish(StepOutcome.Executed, key, reason, stored);
    }

    /// <summary>
    /// Bazel's check after an action: the key is computed again from the files as they are now. An input, code file or
    /// dependency that changed while the step ran means the outputs may come from either version, so the result is
    /// not stored (the run still succeeds; the next run executes the step again).
    /// </summary>
    private bool InputsUnchanged(StepDefinition step, StepKey key)
    {
        string? change;
        try
        {
            var now = _keys.Compute(step, ProducerOutputsOf, upstreamOutputs: UpstreamOutputsOf);
            change = now.Value == key.Value ? null : MissExplainer.Explain(key.Components, now.Components);
        }
        catch (MissingKeyFileException e)
        {
            change = $"{e.Kind.ToLowerInvariant()} {e.Path} was removed";
        }

        if (change is null)
        {
            return true;
        }

        Warning(ErrorCodes.InputChangedDuringStep, step,
            $"The inputs of step '{step.Name}' changed while it ran ({change}); its result is not stored, and the next run executes it again.");
        return false;
    }

    /// <summary>
    /// An upstream step of a resumed run: restored, never executed. With a run id, the entry that run recorded, and
    /// only while the step's inputs are what they were then; else the entry of its current key.
    /// </summary>
    private StepRun RestoreForResume(StepDefinition step, StepKey key, string runId, Func<StepOutcome, StepKey?, string?, CacheEntry?, StepRun> finish)
    {
        var (entry, problem) = _resume!.Find(step, key);
        if (entry is not null)
        {
            var restored = _cache.Restore(step, entry, runId);
            if (restored.Succeeded)
            {
                _cache.LogHit(step, restored);
                // A restored step of a resume is a hit like any other: PipelineReplayLogs shows what it printed.
                if (_options.ReplayLogs)
                {
                    _cache.ReplayLog(step, entry);
                }

                Produced(step, OutputsDigest.Of(entry));
                return finish(StepOutcome.Cached, key, null, entry);
            }

            problem = restored.Damage is { } damage
                ? $"the cached result of step '{step.Name}' is damaged ({damage})"
                : $"its outputs could not be restored ({restored.Failure})";
        }

        Error(ErrorCodes.ResumeUnavailable, step, _resume.Unavailable(step.Name, problem!));
        return finish(StepOutcome.Failed, key, problem, null);
    }

    /// <summary>
    /// Runs the step's command, each line it prints shown live and kept in <paramref name="output"/>; returns null on
    /// success, else why it failed (already logged as an error).
    /// </summary>
    private async Task<string?> ExecuteAsync(StepDefinition step, StepLog output, CancellationToken cancellationToken)
    {
        var workingDirectory = ProjectPath.ToFull(_options.ProjectDirectory, step.WorkingDirectory);
        if (File.Exists(workingDirectory))
        {
            // Said plainly: CreateDirectory's own message ("The file '…' already exists") does not name the metadata.
            Error(ErrorCodes.StepCouldNotStart, step, $"Step '{step.Name}' could not start its command: its WorkingDirectory '{step.WorkingDirectory}' is a file, not a folder. Change WorkingDirectory.");
            return "could not start";
        }

        int exitCode;
        try
        {
            Directory.CreateDirectory(workingDirectory);
            var environment = StepProcess.EnvironmentOf(step);
            if (_options.ProjectFile is not null)
            {
                environment = environment.Append(RecursionGuard.ForChildrenOf(_options.ProjectFile));
            }

            exitCode = await StepProcess.RunAsync(step.Command, workingDirectory, environment,
                line =>
                {
                    output.Add(line, isError: false);
                    _log.StepOutput(step.Name, line);
                },
                cancellationToken,
                line =>
                {
                    output.Add(line, isError: true);
                    _log.StepOutput(step.Name, line);
                },
                _options.StrictEnvironment?.InheritedBy(step)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return Cancelled(step, StopReason());
        }
        catch (Exception e) when (e is Win32Exception or IOException or UnauthorizedAccessException)
        {
            Error(ErrorCodes.StepCouldNotStart, step, $"Step '{step.Name}' could not start its command: {e.Message}");
            return "could not start";
        }

        if (exitCode == StepProcess.InterruptedExitCode)
        {
            // Ctrl+C in a terminal, or kill -INT: the step was stopped, it did not fail. MLP2004, as for the build's
            // own cancellation, which may reach us just after the shell reports the signal.
            return Cancelled(step, $"it was interrupted (SIGINT, exit code {exitCode})");
        }

        if (exitCode != 0)
        {
            var next = _options.ContinueOnError
                ? "steps that depend on it do not run"
                : "no further step starts (PipelineContinueOnError=true runs those that do not depend on it)";
            // The end of its standard error, in the error itself: -v:q and CI annotations show only errors.
            Error(ErrorCodes.StepFailed, step, $"Step '{step.Name}' failed with exit code {exitCode}. Its result is not cached; {next}.{output.ErrorTailSentence(StepLog.SecretsOf(step))}");
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

    private string Cancelled(StepDefinition step, string why)
    {
        Error(ErrorCodes.StepCancelled, step, $"Step '{step.Name}' was cancelled ({why}); its processes were stopped and nothing of it was cached.");
        return "cancelled";
    }

    /// <summary>Remembers what a finished step gave: the <see cref="OutputsDigest"/> of its outputs (null: unknown).</summary>
    private void Produced(StepDefinition step, string? outputs)
    {
        lock (_producedLock)
        {
            _producedOutputs[step.Name] = outputs;
        }
    }

    /// <summary>The digest of an upstream step's outputs, for its downstream keys; null when unknown.</summary>
    private string? UpstreamOutputsOf(string step)
    {
        lock (_producedLock)
        {
            return _producedOutputs.GetValueOrDefault(step);
        }
    }

    /// <summary>
    /// For <c>IncludeArtifactIds</c>: the <see cref="OutputsDigest"/> of the step whose declared output holds
    /// <paramref name="file"/>. Its outputs by content, not its key: a producer can execute again under the same key
    /// (expired, forced, cache disabled) and write something else.
    /// </summary>
    private string? ProducerOutputsOf(string file)
    {
        if (_graph.ProducerOf(file) is not { } producer)
        {
            return null;
        }

        lock (_producedLock)
        {
            return _producedOutputs.GetValueOrDefault(producer);
        }
    }

    private static SortedDictionary<string, string> ParametersOf(StepDefinition step) =>
        new(step.Parameters.ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>The step's metrics as its files hold them now (<see cref="StepMetrics"/>); problems are MLP2020 warnings.</summary>
    private SortedDictionary<string, double>? MetricsOf(StepDefinition step)
    {
        var warnings = new List<PipelineDiagnostic>();
        var metrics = StepMetrics.Read(_options.ProjectDirectory, step, warnings);
        warnings.ForEach(_log.Warning);
        return metrics;
    }

    private void Error(string code, StepDefinition step, string message) => _log.Error(new PipelineDiagnostic(code, step.Name, message));

    private void Warning(string code, StepDefinition step, string message) => _log.Warning(new PipelineDiagnostic(code, step.Name, message));
}
