using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Store;

namespace MLPipelines.Tasks;

/// <summary>The <c>PrunePipelineCache</c> target's task: applies <c>PipelineCacheMaxAge</c>, <c>PipelineCacheMaxSize</c> and <c>PipelineRunHistoryLimit</c> now, and collects orphaned objects.</summary>
public sealed class PrunePipelineCache : PipelineTask
{
    private protected override void ExecuteCore(MSBuildPipelineLog log)
    {
        if (!RefuseStepSelection(log, "PrunePipelineCache", "applies the age and size limits to every entry of the store (to remove some steps' entries, use ClearPipelineCache -p:PipelineSteps=...)"))
        {
            WithStore(log, (options, store) => Prune(options, store, log));
        }
    }

    private static void Prune(PipelineOptions options, CacheStore store, MSBuildPipelineLog log)
    {
        var report = store.Prune(DateTimeOffset.UtcNow, options.CacheMaxAge, options.CacheMaxSizeBytes);
        var limits = $"entries unused for {options.CacheMaxAge}" + (options.CacheMaxSizeBytes is { } max ? $", size above {HousekeepingReport.FormatBytes(max)}" : "");
        log.Message($"Pruned the pipeline cache ({limits}): {report}; {HousekeepingReport.FormatBytes(store.ReferencedSize())} kept.");
        PipelineRunner.PruneRuns(store, options, DateTimeOffset.UtcNow, log);
    }
}
