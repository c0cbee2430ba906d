using MLPipelines.Engine.Store;
using Microsoft.Data.Sqlite;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// Store writes that lose to another build's write lock. SQLite waits for the lock up to the store's busy timeout
/// (<see cref="StoreSettings.BusyTimeout"/>); a write still locked out then costs the cache, never the build: the
/// touch, lease, stamps, entry or run record is skipped, and the run says so once (warning MLP3008), the rest of the
/// times in the detailed log. After the first write that waited the whole timeout in vain, <paramref name="onFirstBusy"/>
/// runs (the runner shortens the store's wait to <see cref="LaterBusyWait"/>): a lock held that long is rarely let go
/// in the next second, and waiting the full timeout again for every later touch, lease or record would turn a busy
/// store into a build that takes minutes (a circuit breaker's open state, for the rest of the run).
/// </summary>
public sealed class StoreContention(IPipelineLog log, Action? onFirstBusy = null)
{
    /// <summary>How long store writes wait for the lock once one write of the run has waited the full timeout in vain.</summary>
    public static readonly TimeSpan LaterBusyWait = TimeSpan.FromSeconds(2);

    private int _warned;

    /// <summary>Runs <paramref name="write"/>; false, reported, when the store stayed busy.</summary>
    /// <param name="what">What is skipped if so, as a phrase: "the run record", "storing the result of step 'a'".</param>
    public bool Try(string what, string? step, Action write)
    {
        try
        {
            write();
            return true;
        }
        catch (SqliteException e) when (CacheStore.IsBusy(e))
        {
            Report(what, step);
            return false;
        }
    }

    /// <summary>Says that <paramref name="what"/> was skipped because the store was busy: a warning the first time in a run.</summary>
    public void Report(string what, string? step)
    {
        if (Interlocked.Exchange(ref _warned, 1) == 0)
        {
            log.Warning(new PipelineDiagnostic(ErrorCodes.StoreBusy, step,
                $"The pipeline cache stayed locked by another build past the busy timeout, so {what} was skipped; the build goes on, and the cache catches up on a later run. " +
                $"Later store writes of this run wait at most {LaterBusyWait.TotalSeconds:0} s, and what they skip (a hit executed instead, a result not stored) is listed with -v:d. " +
                "If this recurs, look for a build or tool that holds cache.db open for a long time."));
            onFirstBusy?.Invoke();
        }
        else
        {
            log.Detail($"The pipeline cache is still busy: {what} was skipped.");
        }
    }
}
