using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Keys;
using MLPipelines.Engine.Store;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// One step's side of the store, for the runner: restoring an entry (objects leased against a concurrent collection
/// only when something must be copied), telling damage from a failure on the project's side, clearing outputs before
/// the step executes, and storing its result. Where files go is <see cref="OutputRestorer"/>'s and
/// <see cref="OutputCapture"/>'s job; this class decides what to do with their outcomes and says so in the log.
/// </summary>
public sealed class StepCache
{
    private readonly PipelineOptions _options;
    private readonly CacheStore _store;
    private readonly OutputRestorer _outputs;
    private readonly FileHasher _hasher;
    private readonly IPipelineLog _log;
    private readonly TimeProvider _clock;

    /// <summary>The <see cref="RestoreOutcome.Failure"/> of a restore that could not lease its objects: the store was busy.</summary>
    public const string StoreBusy = "the pipeline cache was busy";

    public StepCache(PipelineOptions options, CacheStore store, OutputRestorer outputs, FileHasher hasher, IPipelineLog log, TimeProvider clock)
    {
        Contention = new StoreContention(log, () => store.LimitBusyWait(StoreContention.LaterBusyWait));
        _options = options;
        _store = store;
        _outputs = outputs;
        _hasher = hasher;
        _log = log;
        _clock = clock;
    }

    /// <summary>Where this run's store writes that lose to a busy store are reported (once a run).</summary>
    public StoreContention Contention { get; }

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _touched = new();

    /// <summary>
    /// Marks the entries of this run's hits that needed no copy (so took no lease) as used now, in one transaction;
    /// call once the steps are over and before the cache limits apply, so those never see a hit as unused. A busy
    /// store only costs the entries' renewed age (a warning), never the build.
    /// </summary>
    public void MarkHitsUsed()
    {
        var keys = new List<string>();
        while (_touched.TryDequeue(out var key))
        {
            keys.Add(key);
        }

        if (keys.Count > 0)
        {
            Contention.Try($"marking the cached results of {keys.Count} step{(keys.Count == 1 ? "" : "s")} used", null, () => _store.TouchEntries(keys, _clock.GetUtcNow()));
        }
    }

    /// <summary>Deletes the run's staging folder; call once the run is over.</summary>
    public void DeleteStaging() => _outputs.DeleteStaging();

    /// <summary>The store's check of an entry against the step's outputs (<see cref="OutputRestorer.Validate"/>): what is wrong, or null.</summary>
    public string? Validate(StepDefinition step, CacheEntry entry) => _outputs.Validate(entry, step.Outputs);

    /// <summary>Says a step was restored (from the remote cache: <paramref name="remote"/>), and what a restore placed or removed.</summary>
    public void LogHit(StepDefinition step, RestoreOutcome restored, bool remote = false)
    {
        _log.Message(remote ? $"Using cached version of {step.Name} (remote)." : $"Using cached version of {step.Name}.");
        if (restored.Placed > 0)
        {
            _log.Message($"Restored {restored.Placed} output file{(restored.Placed == 1 ? "" : "s")} of {step.Name} from the cache.");
        }

        if (restored.Removed > 0)
        {
            _log.Message($"Removed {restored.Removed} path{(restored.Removed == 1 ? "" : "s")} from the outputs of {step.Name} that its cached result does not hold.");
        }
    }

    /// <summary>
    /// Makes the step's outputs exactly the entry's. Objects are leased against a concurrent collection only when
    /// something must be copied; a hit with everything in place just marks the entry used.
    /// </summary>
    public RestoreOutcome Restore(StepDefinition step, CacheEntry entry, string runId)
    {
        var holder = $"{runId}/{entry.Step}";
        var leased = false;
        var asked = false;
        var busy = false;
        try
        {
            var outcome = _outputs.Restore(entry, step.Outputs, () =>
            {
                asked = true;
                // Without a lease a concurrent collection could take the objects mid-copy: unleased, the step executes.
                busy = !Contention.Try($"leasing the cached objects of step '{step.Name}' (it executes instead)", step.Name,
                    () => leased = _store.TryLease(entry, holder, _clock.GetUtcNow()));
                return leased;
            });
            if (busy)
            {
                return outcome with { Failure = StoreBusy };
            }

            if (!asked)
            {
                // The outputs are already exactly the entry's, so the hit stands whatever the store does next: it is
                // marked used with the run's other such hits, in one transaction (MarkHitsUsed).
                _touched.Enqueue(entry.Key);
            }

            return outcome;
        }
        finally
        {
            if (leased)
            {
                // Unreleased, the leases only keep the objects from collection until they expire.
                Contention.Try($"releasing the leases of step '{step.Name}'", step.Name, () => _store.ReleaseLeases(holder));
            }
        }
    }

    /// <summary>
    /// Says why a found entry could not be restored, and deals with it: damage (a missing or altered object) removes
    /// the entry; a failure on the project's side (permissions, disk full) keeps it for the next build.
    /// </summary>
    public string WhyNotRestored(StepDefinition step, CacheEntry entry, RestoreOutcome restored)
    {
        if (restored.Failure == OutputRestorer.EntryGone)
        {
            return "its entry was removed by another build";
        }

        if (restored.Failure == StoreBusy)
        {
            return StoreBusy; // Reported by the contention warning; the entry is fine.
        }

        if (restored.Damage is { } damage)
        {
            Warning(ErrorCodes.DamagedEntry, step, $"The cached result of step '{step.Name}' is damaged ({damage}); the step executes instead and its entry is replaced.");
            // By id: a concurrent build's fresh entry of the same key stays. Left in place when busy: the next build
            // finds the damage again.
            Contention.Try($"deleting the damaged entry of step '{step.Name}'", step.Name, () => _store.DeleteEntry(entry.Id));
            if (restored.DamagedObject is { } altered)
            {
                _store.Objects.Remove(altered); // A fresh capture stores it again; a missing one is gone already.
            }

            return "cached result damaged";
        }

        Warning(ErrorCodes.OutputsNotWritable, step,
            $"The outputs of step '{step.Name}' could not be restored from the cache ({restored.Failure}); the step executes instead. The cached result is kept.");
        return "its outputs could not be restored";
    }

    /// <summary>Removes the step's outputs before it executes; null on success, else why it failed (already logged).</summary>
    public string? ClearOutputs(StepDefinition step)
    {
        try
        {
            _outputs.Clear(step.Outputs);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Error(ErrorCodes.OutputsNotWritable, step,
                $"The outputs of step '{step.Name}' could not be removed before it runs ({e.Message}). Fix the permissions, or set PersistOutputs=\"true\" if the step updates them in place.");
            return "outputs could not be removed";
        }
    }

    /// <summary>
    /// Copies the outputs into <c>objects/</c>, then records the entry; a store failure costs the cache, not the build.
    /// Returns what was captured, recorded or not; null when capturing failed.
    /// </summary>
    public CacheEntry? Store(StepDefinition step, StepKey key, DateTimeOffset createdAt, TimeSpan duration, string runId, StepLog? output = null)
    {
        if (_store.NewerSchema is not null)
        {
            return null; // A newer engine's store is stood in for by a scratch store: nothing there is ever read back.
        }

        try
        {
            // A concurrent prune may collect objects between their write and the entry's record; store them again then.
            for (var attempt = 1; ; attempt++)
            {
                var entry = BuildEntry(step, key, createdAt, duration, runId, output);
                if (_store.RecordEntry(entry))
                {
                    return entry;
                }

                if (attempt == 3)
                {
                    Warning(ErrorCodes.StoreWriteFailed, step, $"The result of step '{step.Name}' could not be stored: another build kept collecting its objects; the next run executes it again.");
                    return entry;
                }
            }
        }
        catch (UncacheableOutputException e)
        {
            Warning(ErrorCodes.UncacheableOutput, step, $"The result of step '{step.Name}' is not cached: {e.Message} A cached copy could not be restored faithfully. {e.Advice}");
            return null;
        }
        catch (Microsoft.Data.Sqlite.SqliteException e) when (CacheStore.IsBusy(e))
        {
            // Its objects, written already, are unreferenced: a later collection takes them once they are old.
            Contention.Report($"storing the result of step '{step.Name}' (the next run executes it again)", step.Name);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            Warning(ErrorCodes.StoreWriteFailed, step, $"The result of step '{step.Name}' could not be stored ({e.Message}); the next run executes it again.");
            return null;
        }
    }

    private CacheEntry BuildEntry(StepDefinition step, StepKey key, DateTimeOffset createdAt, TimeSpan duration, string runId, StepLog? output)
    {
        var captured = OutputCapture.Capture(_options.ProjectDirectory, step.Outputs, _store.Objects, _options.StoreDirectoryInProject);
        // A step that printed nothing keeps no log: an entry without one is what older engines wrote anyway.
        var (logHash, logSize) = output is null || output.IsEmpty ? (null, 0L) : _store.Objects.Add(output.ToBytes());
        CrashPoint.Reach(CrashPoint.ObjectsStored);
        return new CacheEntry
        {
            Pipeline = _options.PipelineName,
            Step = step.Name,
            Key = key.Value,
            CreatedAt = createdAt,
            Duration = duration,
            Components = key.Components,
            Manifest = captured.Files,
            Directories = captured.Directories,
            Links = captured.Links,
            RunId = runId,
            LogHash = logHash,
            LogSize = logSize,
        };
    }

    /// <summary>
    /// <c>PipelineReplayLogs</c>: shows the log <paramref name="entry"/> kept, each line as the step's live output is
    /// shown, or says why there is none to show. A missing or damaged log never costs the hit: it is not an output.
    /// </summary>
    public void ReplayLog(StepDefinition step, CacheEntry entry)
    {
        if (entry.LogHash is null)
        {
            _log.Message($"No log of {step.Name} was kept with its cached result (it printed nothing, its result was stored by an older version, or the remote cache gave it without its log).");
            return;
        }

        // Twice the bound: the truncation line sits on top of a full log.
        if (_store.Objects.ReadVerified(entry.LogHash, 2L * StepLog.MaxBytes) is not { } kept)
        {
            _log.Message($"The kept log of {step.Name} is missing or damaged in the cache; nothing to replay.");
            return;
        }

        foreach (var line in StepLog.Lines(kept))
        {
            _log.StepOutput(step.Name, line);
        }
    }

    /// <summary>
    /// The digest of a step's outputs as they are on disk, for a result that could not be captured into the store;
    /// null when they cannot be read or described either (a link out of the project), which makes every downstream
    /// step execute. The same walk as capture, so a stored and an unstored result of the same bytes agree.
    /// </summary>
    public string? DigestOnDisk(StepDefinition step)
    {
        try
        {
            var outputs = OutputCapture.Read(_options.ProjectDirectory, step.Outputs,
                file => (_hasher.Hash(file), new FileInfo(file).Length), _options.StoreDirectoryInProject);
            return OutputsDigest.Of(outputs.Files, outputs.Directories, outputs.Links);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or UncacheableOutputException)
        {
            return null;
        }
    }

    private void Error(string code, StepDefinition step, string message) => _log.Error(new PipelineDiagnostic(code, step.Name, message));

    private void Warning(string code, StepDefinition step, string message) => _log.Warning(new PipelineDiagnostic(code, step.Name, message));
}
