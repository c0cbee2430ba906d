using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Reports;
using Microsoft.Build.Framework;

namespace MLPipelines.Tasks;

/// <summary>
/// The <c>RunPipeline</c> target's task: takes the pipeline's <see cref="PipelineLock"/> (waiting for another build of
/// the same project's pipeline), then hands the validated pipeline to <see cref="PipelineRunner"/>.
/// </summary>
public sealed class RunPipeline : PipelineTask
{
    /// <summary>One item per step that ran or was restored, with <c>Outcome</c>, <c>Key</c> and <c>Reason</c> metadata.</summary>
    [Output]
    public ITaskItem[] StepResults { get; private set; } = [];

    /// <summary>
    /// <c>@(PipelineOutput)</c>: one item per output file (absolute path; a directory output gives every file below it)
    /// of each step that executed or was restored, with metadata <c>Step</c>, the step's name.
    /// </summary>
    [Output]
    public ITaskItem[] OutputFiles { get; private set; } = [];

    /// <summary><c>PipelineSummaryFile</c>: where to write the run's JSON summary, relative to the project folder; empty for none.</summary>
    public string? SummaryFile { get; set; }

    private protected override void ExecuteCore(MSBuildPipelineLog log)
    {
        // Phase timings at -v:d: where a no-op's time goes (issue 9). Since process start covers MSBuild's own
        // start-up, evaluation and the load of this assembly.
        var sinceStart = DateTime.Now - System.Diagnostics.Process.GetCurrentProcess().StartTime;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (LoadPipeline(log) is not var (options, graph))
        {
            return;
        }

        var loaded = clock.ElapsedMilliseconds;
        clock.Restart();
        // The tools' versions are found while the store opens, and before the lock: a failing one fails at once.
        if (OpenStoreAndFindTools(options, log) is not var (store, ready))
        {
            return;
        }

        using var storeScope = store;
        options = TaskInputs.WithReports(ready, SummaryFile);

        log.Detail($"Opened the pipeline cache at {options.CacheDirectory}{(options.Tools.Count > 0 ? " and found the tools' versions" : "")} in {clock.ElapsedMilliseconds} ms.");

        // One build of this project's pipeline at a time; the runner (and its file stamps) starts only once it is ours.
        var taking = PipelineLock.AcquireAsync(options, log, Cancellation);
        log.Pump(taking);
        using var pipelineLock = taking.GetAwaiter().GetResult();
        if (pipelineLock is null)
        {
            return;
        }

        var opened = clock.ElapsedMilliseconds;
        clock.Restart();
        var run = new PipelineRunner(options, graph, store, log).RunAsync(Cancellation);
        log.Pump(run);
        var result = run.GetAwaiter().GetResult();
        StepResults = result.Steps.Select(TaskInputs.ToItem).ToArray();
        OutputFiles = RunOutputFiles.Of(options, graph, result).Select(TaskInputs.ToItem).ToArray();
        RunReports.Write(options, graph, result, log);
        log.Detail(System.FormattableString.Invariant(
            $"Phases: task started {sinceStart.TotalMilliseconds:0} ms after the process; pipeline read and checked in {loaded} ms; store opened and locked in {opened} ms; run in {clock.ElapsedMilliseconds} ms."));
    }
}
