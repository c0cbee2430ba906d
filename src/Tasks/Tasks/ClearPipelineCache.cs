namespace MLPipelines.Tasks;

/// <summary>The <c>ClearPipelineCache</c> target's task: removes the pipeline's entries (or those of <c>PipelineSteps</c>) and their objects.</summary>
public sealed class ClearPipelineCache : PipelineTask
{
    private protected override void ExecuteCore(MSBuildPipelineLog log) => WithStore(log, (options, store) =>
    {
        var report = store.Clear(options.PipelineName, options.SelectedSteps.ToList(), DateTimeOffset.UtcNow);
        var scope = options.SelectedSteps.Count == 0 ? $"pipeline {options.PipelineName}" : $"steps {string.Join(", ", options.SelectedSteps)} of pipeline {options.PipelineName}";
        log.Message($"Cleared the cache of {scope}: {report}.");
    });
}
