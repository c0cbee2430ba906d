using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Graph;
using MLPipelines.Engine.Store;
using Microsoft.Build.Framework;

namespace MLPipelines.Tasks;

/// <summary>
/// The <c>RunPipeline</c> target's task: reads the Step items and pipeline properties, hands them to the engine and
/// reports what it says. No pipeline logic lives here.
/// </summary>
// MSBuild creates and drops task instances; the token source holds no OS resource unless a timeout is set.
#pragma warning disable CA1001
public sealed class RunPipeline : Microsoft.Build.Utilities.Task, ICancelableTask
{
#pragma warning restore CA1001
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>The <c>@(Step)</c> items.</summary>
    public ITaskItem[] Steps { get; set; } = [];

    [Required]
    public string ProjectFile { get; set; } = "";

    [Required]
    public string PipelineName { get; set; } = "";

    [Required]
    public string CacheDirectory { get; set; } = "";

    public string? EnablePipelineCache { get; set; }
    public string? MaxParallelism { get; set; }
    public string? SelectedSteps { get; set; }
    public string? ForcedSteps { get; set; }
    public string? CacheMaxAge { get; set; }
    public string? CacheMaxSize { get; set; }

    /// <summary>One item per step that ran or was restored, with <c>Outcome</c>, <c>Key</c> and <c>Reason</c> metadata.</summary>
    [Output]
    public ITaskItem[] StepResults { get; private set; } = [];

    public void Cancel() => _cancel.Cancel();

    public override bool Execute()
    {
        using var log = new MSBuildPipelineLog(BuildEngine, Log, ProjectFile);
        try
        {
            var diagnostics = new List<PipelineDiagnostic>();
            var options = TaskInputs.ReadOptions(this, diagnostics);
            var steps = StepParser.Parse(Steps.Select(TaskInputs.ToRawStep), options.ProjectDirectory, diagnostics);
            var graph = diagnostics.Count == 0 ? PipelineGraph.Build(steps, diagnostics) : null;
            var unknown = options.SelectedSteps.Concat(options.ForcedSteps.Where(f => f != "*"))
                .Where(name => graph is not null && !graph.Contains(name)).ToList();
            diagnostics.AddRange(unknown.Select(name => new PipelineDiagnostic(ErrorCodes.UnknownSelectedStep, name,
                $"'{name}' (from PipelineSteps or PipelineForce) is not a step of pipeline {options.PipelineName}.")));
            if (graph is null || diagnostics.Count > 0)
            {
                diagnostics.ForEach(log.Error);
                log.Pump(Task.CompletedTask);
                return false;
            }

            using var store = TaskInputs.OpenStore(options.CacheDirectory, log);
            if (store is null)
            {
                log.Pump(Task.CompletedTask);
                return false;
            }

            var runner = new PipelineRunner(options, graph, store, log);
            var run = runner.RunAsync(_cancel.Token);
            log.Pump(run);
            var result = run.GetAwaiter().GetResult();
            StepResults = result.Steps.Select(TaskInputs.ToItem).ToArray();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.Pump(Task.CompletedTask);
            Log.LogError(null, ErrorCodes.UnexpectedFailure, ErrorCodes.UnexpectedFailure, ProjectFile, 0, 0, 0, 0,
                $"MLPipelines.Sdk failed unexpectedly: {e.GetType().Name}: {e.Message} Please report this with the build log (-v:d shows details).");
            Log.LogMessage(MessageImportance.Low, e.ToString());
        }

        return !Log.HasLoggedErrors;
    }
}
