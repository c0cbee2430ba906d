using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Keys;
using MLPipelines.Engine.Store;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// Decides whether a step's key has a usable entry, and when not, why: cache disabled, forced, expired, no earlier
/// result, or what changed against the step's newest entry. Shared by <c>RunPipeline</c> and <c>PlanPipeline</c> so
/// the plan says exactly what the run will do.
/// </summary>
public sealed class CacheLookup(PipelineOptions options, CacheStore store, IPipelineLog log, TimeProvider clock)
{
    /// <summary>
    /// For the plan: a corrupt entry is reported but left in the store, so the run that follows finds it too and
    /// gives the reason the plan gave (deleted by the plan, the run would say "no earlier result" instead).
    /// </summary>
    public bool DryRun { get; init; }

    public (CacheEntry? Entry, string Reason) Find(StepDefinition step, StepKey key)
    {
        if (!CacheOn(step))
        {
            return (null, "cache disabled");
        }

        if (IsForced(step))
        {
            return (null, "forced");
        }

        CacheEntry? entry;
        try
        {
            entry = store.FindEntry(key.Value);
        }
        catch (CorruptEntryException e)
        {
            if (DryRun)
            {
                log.Warning(new(ErrorCodes.DamagedEntry, step.Name, $"The cache entry of step '{step.Name}' is corrupt; the run will execute the step instead and replace its entry."));
                return (null, "cached result damaged");
            }

            log.Warning(new(ErrorCodes.DamagedEntry, step.Name, $"The cache entry of step '{step.Name}' is corrupt; the step executes instead and its entry is replaced."));
            store.DeleteEntry(e.EntryId);
            return (null, "cached result damaged");
        }

        if (entry is not null)
        {
            var now = clock.GetUtcNow();
            if (step.ExpiresAfter is { } lifetime && entry.CreatedAt + lifetime < now)
            {
                return (null, $"expired {Ago(now - (entry.CreatedAt + lifetime))} ago");
            }

            return (entry, "");
        }

        CacheEntry? newest;
        try
        {
            newest = store.FindNewestEntry(options.PipelineName, step.Name);
        }
        catch (CorruptEntryException)
        {
            newest = null;
        }

        return (null, newest is null ? "no earlier result" : MissExplainer.Explain(newest.Components, key.Components));
    }

    /// <summary>Whether the step is named by <c>PipelineForce</c> (or it says <c>*</c>).</summary>
    public bool IsForced(StepDefinition step) =>
        options.ForcedSteps.Any(f => f == "*" || f.Equals(step.Name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Whether the step's cache is on: <c>EnablePipelineCache</c> from the command line, else the step's
    /// <c>EnableCache</c>, else the project's <c>EnablePipelineCache</c> (README "Precedence"). What makes a step
    /// cacheable for <see cref="HitRate"/>.
    /// </summary>
    public bool CacheOn(StepDefinition step) => options.CacheOverride ?? step.EnableCache ?? options.CacheEnabledByDefault;

    /// <summary>Whether the step's cache is off, or it is forced, so it executes whatever its inputs.</summary>
    public bool AlwaysExecutes(StepDefinition step) => !CacheOn(step) || IsForced(step);

    private static string Ago(TimeSpan span) =>
        span.TotalDays >= 1 ? $"{(int)span.TotalDays}d" :
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}h" :
        span.TotalMinutes >= 1 ? $"{(int)span.TotalMinutes}m" : $"{Math.Max(1, (int)span.TotalSeconds)}s";
}
