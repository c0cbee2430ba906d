namespace MLPipelines.Tasks;

/// <summary>The <c>PrunePipelineCache</c> target's task: applies <c>PipelineCacheMaxAge</c> and <c>PipelineCacheMaxSize</c> now, and collects orphaned objects.</summary>
public sealed class PrunePipelineCache : PipelineTask
{
    private protected override void ExecuteCore(MSBuildPipelineLog log)
    {
        if (LoadOptions(log) is not { } options)
        {
            return;
        }

        using var store = OpenStore(options, log);
        if (store is null)
        {
            return;
        }

        var report = store.Prune(DateTimeOffset.UtcNow, options.CacheMaxAge, options.CacheMaxSizeBytes);
        var limits = $"entries unused for {options.CacheMaxAge}" + (options.CacheMaxSizeBytes is { } max ? $", size above {Engine.Store.HousekeepingReport.FormatBytes(max)}" : "");
        log.Message($"Pruned the pipeline cache ({limits}): {report}; {Engine.Store.HousekeepingReport.FormatBytes(store.ReferencedSize())} kept.");
    }
}
