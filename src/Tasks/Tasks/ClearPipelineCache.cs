using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;

namespace MLPipelines.Tasks;

/// <summary>The <c>ClearPipelineCache</c> target's task: removes the pipeline's entries (or those of <c>PipelineSteps</c>) and their objects.</summary>
public sealed class ClearPipelineCache : PipelineTask
{
    private protected override void ExecuteCore(MSBuildPipelineLog log) => WithStore(log, (options, store) =>
    {
        if (options.SelectedSteps.Count > 0)
        {
            // A name must be a step of the project or have entries (a removed step's): a typo clears nothing, loudly.
            var diagnostics = new List<PipelineDiagnostic>();
            StepSelection.CheckClear(options.SelectedSteps, Steps.Select(s => s.ItemSpec.Trim()).ToList(), store.StepsWithEntries(options.PipelineName), options.PipelineName, diagnostics);
            diagnostics.ForEach(log.Error);
            if (diagnostics.Count > 0)
            {
                return;
            }
        }

        var report = store.Clear(options.PipelineName, options.SelectedSteps.ToList(), DateTimeOffset.UtcNow);
        var scope = options.SelectedSteps.Count == 0 ? $"pipeline {options.PipelineName}" : $"steps {string.Join(", ", options.SelectedSteps)} of pipeline {options.PipelineName}";
        log.Message($"Cleared the cache of {scope}: {report}.");
    });
}
