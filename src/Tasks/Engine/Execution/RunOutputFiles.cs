using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Graph;
using MLPipelines.Engine.Store;

namespace MLPipelines.Engine.Execution;

/// <summary>One file a step's outputs hold after a run: the step's name and the file's absolute path.</summary>
public readonly record struct StepOutputFile(string Step, string FullPath);

/// <summary>
/// What <c>RunPipeline</c> hands back to the build as <c>@(PipelineOutput)</c> (issue 11): the output files of every
/// step that ended with its outputs in place, executed or restored from a cache. A project's item globs are expanded
/// before the pipeline runs, so on a clean build these items are how it can embed or copy what the steps made.
/// </summary>
public static class RunOutputFiles
{
    /// <summary>
    /// For each step of <paramref name="result"/> that was <see cref="StepOutcome.Cached"/> or
    /// <see cref="StepOutcome.Executed"/>, in run order, the files below its declared outputs as they are on disk now
    /// (see <see cref="OutputFiles.List"/>). Read from disk rather than from the stored manifest, so a step whose result
    /// was not stored (cache disabled, inputs edited while it ran) still gives its files. Failed and not-run steps give none.
    /// </summary>
    /// <exception cref="IOException">An output directory could not be read.</exception>
    public static IReadOnlyList<StepOutputFile> Of(PipelineOptions options, PipelineGraph graph, PipelineRunResult result)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(result);
        return result.Steps
            .Where(step => step.Outcome is StepOutcome.Cached or StepOutcome.Executed && graph.Contains(step.Name))
            .SelectMany(step => OutputFiles.List(options.ProjectDirectory, graph[step.Name].Outputs, options.StoreDirectoryInProject)
                .Select(file => new StepOutputFile(step.Name, file)))
            .ToList();
    }
}
