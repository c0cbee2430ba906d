using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Graph;
using MLPipelines.Engine.Paths;
using MLPipelines.Engine.Remote;
using MLPipelines.Engine.Store;
using Microsoft.Build.Framework;

namespace MLPipelines.Tasks;

/// <summary>
/// What every pipeline task shares: the Step items and pipeline properties, read and validated into the engine's
/// shapes, errors reported with their codes, and unexpected failures turned into one MLP4003 error.
/// </summary>
// MSBuild creates and drops task instances; the token source holds no OS resource unless a timeout is set.
#pragma warning disable CA1001
public abstract class PipelineTask : Microsoft.Build.Utilities.Task, ICancelableTask
#pragma warning restore CA1001
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>The <c>@(Step)</c> items.</summary>
    public ITaskItem[] Steps { get; set; } = [];

    [Required]
    public string ProjectFile { get; set; } = "";

    [Required]
    public string PipelineName { get; set; } = "";

    [Required]
    public string CacheDirectory { get; set; } = "";

    /// <summary>Evaluated source files of <c>SourceDependencies</c> projects; metadata <c>MLPipelinesProject</c> names the project.</summary>
    public ITaskItem[] SourceFiles { get; set; } = [];

    /// <summary><c>PipelineRemoteCache</c>: the remote cache's base URL; empty: off.</summary>
    public string? RemoteCache { get; set; }

    /// <summary><c>PipelineRemoteCacheMode</c>: <c>ReadWrite</c> (default), <c>Read</c> or <c>Write</c>.</summary>
    public string? RemoteCacheMode { get; set; }

    public string? EnablePipelineCache { get; set; }
    public string? MaxParallelism { get; set; }
    public string? SelectedSteps { get; set; }
    public string? ForcedSteps { get; set; }
    public string? ResumeFrom { get; set; }
    public string? CacheMaxAge { get; set; }
    public string? CacheMaxSize { get; set; }

    /// <summary><c>PipelineRunHistoryLimit</c>: a positive count of runs kept per pipeline.</summary>
    public string? RunHistoryLimit { get; set; }

    /// <summary><c>PipelineLockTimeout</c>: seconds or a TimeSpan; only <c>RunPipeline</c> waits for the lock.</summary>
    public string? LockTimeout { get; set; }

    /// <summary>The <c>@(PipelineTool)</c> items: <c>Include</c> a tool name, metadata <c>VersionCommand</c>.</summary>
    public ITaskItem[] Tools { get; set; } = [];

    /// <summary><c>PipelineKeyPlatform</c>: <c>true</c> keys every step that does not say (<c>Platform</c>) by the OS and architecture.</summary>
    public string? KeyPlatform { get; set; }

    /// <summary>
    /// <c>PipelineContinueOnError</c>: <c>true</c> runs every step not downstream of a failed one; <c>RunPipeline</c>
    /// reads it, and the plan (<c>PlanPipeline</c>, <c>ShowPipelineGraph</c>) to say which steps fail fast leaves unstarted. Not named <c>ContinueOnError</c>: MSBuild gives every task element that attribute for itself.
    /// </summary>
    public string? KeepGoing { get; set; }

    /// <summary><c>PipelineReplayLogs</c>: <c>true</c> replays a hit's kept log; only <c>RunPipeline</c> reads it.</summary>
    public string? ReplayLogs { get; set; }

    /// <summary><c>PipelineStrictEnvironment</c>: <c>true</c> gives each step only its declared variables and the base set (<c>StrictEnvironment</c>).</summary>
    public string? StrictEnvironment { get; set; }

    /// <summary><c>PipelinePassThroughEnvironment</c>: more variable names (<c>;</c> or <c>,</c>, <c>PREFIX*</c>) every step inherits in strict mode, unkeyed.</summary>
    public string? PassThroughEnvironment { get; set; }

    protected CancellationToken Cancellation => _cancel.Token;

    public void Cancel() => _cancel.Cancel();

    public sealed override bool Execute()
    {
        using var log = new MSBuildPipelineLog(BuildEngine, Log, ProjectFile) { Locate = Locate };
        try
        {
            if ((BuildEngine as IBuildEngine6)?.GetGlobalProperties() is { } global)
            {
                foreach (var warning in PropertyParser.MisspeltGlobalProperties(global.Keys))
                {
                    log.Warning(warning);
                }
            }

            ExecuteCore(log);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.Pump(Task.CompletedTask);
            Log.LogError(null, ErrorCodes.UnexpectedFailure, null, ProjectFile, 0, 0, 0, 0,
                $"MLPipelines.Sdk failed unexpectedly: {e.GetType().Name}: {e.Message} Please report this with the build log (-v:d shows details).");
            Log.LogMessage(MessageImportance.Low, e.ToString());
        }

        log.Pump(Task.CompletedTask);
        return !Log.HasLoggedErrors;
    }

    private protected abstract void ExecuteCore(MSBuildPipelineLog log);

    private StepLocator? _locator;

    /// <summary>
    /// The element a diagnostic is about: the <c>&lt;Step&gt;</c> of its step, or the <c>&lt;PipelineTool&gt;</c> of its
    /// tool, in the file that defines the item (MSBuild's <c>DefiningProjectFullPath</c>: the project or the import),
    /// where its <c>Include</c> names it literally; the <see cref="PipelineDiagnostic.Occurrence"/>-th item of that
    /// name (a name declared twice is reported at the second). Null when there is no such item or element; the
    /// diagnostic then names the file that defines the item, else the project file, without a line.
    /// </summary>
    private StepLocation? Locate(PipelineDiagnostic diagnostic)
    {
        var (items, element, name) = diagnostic.Tool is { } tool
            ? (Tools, StepLocator.ToolElement, tool.Trim())
            : (Steps, StepLocator.StepElement, diagnostic.Step?.Trim());
        if (name is null)
        {
            return null;
        }

        var named = items.Where(s => s.ItemSpec.Trim().Equals(name, StringComparison.OrdinalIgnoreCase)).ToList();
        var item = named.ElementAtOrDefault(diagnostic.Occurrence) ?? named.FirstOrDefault();
        if (item?.GetMetadata("DefiningProjectFullPath") is not { Length: > 0 } file)
        {
            return null;
        }

        // The items of that name declared earlier in the same file come first among its elements.
        var inFile = named.TakeWhile(i => !ReferenceEquals(i, item)).Count(i => i.GetMetadata("DefiningProjectFullPath") == file);
        _locator ??= new StepLocator();
        return _locator.Find(file, element, name, inFile) ?? new StepLocation(file, 0, 0);
    }

    /// <summary>Reads and validates the pipeline; null (with every error logged) when it is not valid.</summary>
    private protected (PipelineOptions Options, PipelineGraph Graph)? LoadPipeline(MSBuildPipelineLog log)
    {
        if (RecursionGuard.IsRunningAbove(ProjectFile))
        {
            log.Error(new PipelineDiagnostic(ErrorCodes.RecursiveRun, null,
                "This pipeline is already running in a parent process: one of its step commands builds this same project again, which would never end. " +
                "A common cause: `dotnet run step.cs` next to a project file runs the project, not the file; write `dotnet run --file step.cs`."));
            return null;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Misspelt metadata names first, as warnings: the errors below may be their consequence (a PipelineTool whose
        // VersionComand leaves it without a VersionCommand), and the warning says which name was meant.
        foreach (var warning in Steps.Select(TaskInputs.ToRawStep).SelectMany(StepParser.MisspeltMetadata)
                     .Concat(Tools.SelectMany(t => ToolParser.MisspeltMetadata(t.ItemSpec, t.CloneCustomMetadata().Keys.Cast<string>()))))
        {
            log.Warning(warning);
        }

        var diagnostics = new List<PipelineDiagnostic>();
        var options = TaskInputs.ReadOptions(this, diagnostics);
        var steps = StepParser.Parse(Steps.Select(TaskInputs.ToRawStep), options.ProjectDirectory, diagnostics);
        ToolParser.CheckStepTools(steps, options.Tools, diagnostics, Tools.Select(t => t.ItemSpec));
        var parsed = clock.ElapsedMilliseconds;
        var graph = diagnostics.Count == 0 ? PipelineGraph.Build(steps, diagnostics, options.ProjectSources, options.ProjectDirectory) : null;
        log.Detail(System.FormattableString.Invariant($"Read {steps.Count} steps in {parsed} ms; built their graph in {clock.ElapsedMilliseconds - parsed} ms."));
        if (graph is not null)
        {
            StepSelection.CheckRun(options.SelectedSteps, options.ForcedSteps, graph.Steps.Select(s => s.Name).ToList(), options.PipelineName, diagnostics);
            clock.Restart();
            OutputLocations.Check(graph.Steps, options.ProjectDirectory, diagnostics, options.ProjectFile is { } projectFile ? [projectFile] : null);
            log.Detail(System.FormattableString.Invariant($"Checked where the outputs lie in {clock.ElapsedMilliseconds} ms."));

            // The store inside an output folder is left out of it; an output inside the store (or the store itself)
            // would be cleared, stored and restored along with the cache: never a faithful result.
            if (options.StoreDirectoryInProject is { } store)
            {
                diagnostics.AddRange(graph.Steps.SelectMany(step => step.Outputs.Where(o => ProjectPath.IsUnder(o, store)).Select(o =>
                    new PipelineDiagnostic(ErrorCodes.OutputInStore, step.Name,
                        $"Output '{o}' of step '{step.Name}' lies in the pipeline cache ('{store}', PipelineCacheDir). Point PipelineCacheDir elsewhere, or write the output somewhere else."))));
            }

            if (options.ResumeFrom is { } resume && !graph.Contains(resume.Step))
            {
                diagnostics.Add(new PipelineDiagnostic(ErrorCodes.UnknownResumeStep, resume.Step,
                    $"PipelineResumeFrom='{resume}' names '{resume.Step}', which is not a step of pipeline {options.PipelineName}. Use <step> or <run-id>:<step>."));
            }
        }

        diagnostics.ForEach(log.Error);
        return graph is null || diagnostics.Count > 0 ? null : (options, graph);
    }

    /// <summary>
    /// For <c>RunPipeline</c> and <c>PlanPipeline</c>: opens the store (<see cref="OpenStore"/>, a newer engine's store
    /// stood in for, <see cref="Against"/>) while the declared tools' version commands run (<see cref="ToolVersions"/>:
    /// all at once, once per build), and gives the options with their versions. Null, with the errors logged, when
    /// the store cannot be used or a version is unknown (MLP2012: no key can be computed, so no step may run).
    /// </summary>
    private protected (CacheStore Store, PipelineOptions Options)? OpenStoreAndFindTools(PipelineOptions options, MSBuildPipelineLog log)
    {
        using var stopTools = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        var finding = ToolVersions.FindAsync(options.Tools, options.ProjectDirectory, log, stopTools.Token);
        var store = OpenStore(options, log, runsUncached: true);
        if (store is null)
        {
            // No version command outlives the task.
            stopTools.Cancel();
        }

        log.Pump(finding);
        var versions = finding.GetAwaiter().GetResult();
        if (store is null || (options.Tools.Count > 0 && versions is null))
        {
            store?.Dispose();
            return null;
        }

        return (store, Against(store, options) with { ToolVersions = versions });
    }

    /// <summary>
    /// For the dry runs (<c>PlanPipeline</c>, <c>ShowPipelineGraph</c>): loads the pipeline, opens the store with the
    /// tools' versions and plans every step with the keys the run would compute (<see cref="PipelinePlanner"/>). Null,
    /// with the errors logged, when any of that fails. The store is closed before this returns: a plan is a snapshot.
    /// </summary>
    private protected (PipelineOptions Options, PipelineGraph Graph, IReadOnlyList<PlannedStep> Plan)? PlanPipelineSteps(MSBuildPipelineLog log)
    {
        if (LoadPipeline(log) is not var (options, graph) || OpenStoreAndFindTools(options, log) is not var (store, ready))
        {
            return null;
        }

        // The remote cache too, read-only, where the run would ask it (Turborepo's dry run shows remote hits).
        using (store)
        using (var remote = ready.RemoteCache is { } settings ? new RemoteCache(settings, ready, store, log, TimeProvider.System) : null)
        {
            return new PipelinePlanner(ready, graph, store, log, cancellationToken: Cancellation, remote: remote).Plan() is { } plan ? (ready, graph, plan) : null;
        }
    }

    /// <summary>
    /// For targets that act on the whole store or every run (<c>PrunePipelineCache</c>, <c>ListPipelineRuns</c>): a
    /// <c>PipelineSteps</c> they would ignore is MLP1024, so nothing happens that the user did not ask for.
    /// </summary>
    private protected bool RefuseStepSelection(MSBuildPipelineLog log, string target, string instead)
    {
        if (StepParser.SplitStepNames(SelectedSteps).Count == 0)
        {
            return false;
        }

        log.Error(new PipelineDiagnostic(ErrorCodes.PropertyNotForTarget, null,
            $"PipelineSteps='{StepParser.Shown(SelectedSteps!)}' does not apply to {target}, which {instead}. Nothing was done: run it without PipelineSteps."));
        return true;
    }

    /// <summary>
    /// Shows a report (a plan, a graph): line by line in the log, where the terminal logger shows it at the default
    /// verbosity, or into <paramref name="file"/> (relative to the project folder; its folder is created), saying
    /// where. A file that cannot be written is error MLP1061, naming the property and the system's reason.
    /// </summary>
    private protected static void Show(string text, string? file, string fileProperty, string what, PipelineOptions options, MSBuildPipelineLog log)
    {
        if (string.IsNullOrWhiteSpace(file))
        {
            foreach (var line in text.TrimEnd('\n').Split('\n'))
            {
                log.Message(line);
            }

            return;
        }

        string path;
        try
        {
            path = Path.GetFullPath(file, options.ProjectDirectory);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            log.Error(new(ErrorCodes.ReportFileNotWritable, null, $"{fileProperty}='{file}' cannot be written: {e.Message} Fix the path or the folder's permissions."));
            return;
        }

        log.Message($"{what} written to {path}.");
    }

    /// <summary>Reads only the properties (for housekeeping targets that need no valid step list).</summary>
    private protected PipelineOptions? LoadOptions(MSBuildPipelineLog log)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var options = TaskInputs.ReadOptions(this, diagnostics);
        diagnostics.ForEach(log.Error);
        return diagnostics.Count == 0 ? options : null;
    }

    /// <summary>For the housekeeping tasks: reads the properties, opens the store and hands both to <paramref name="work"/>.</summary>
    private protected void WithStore(MSBuildPipelineLog log, Action<PipelineOptions, CacheStore> work)
    {
        if (LoadOptions(log) is not { } options)
        {
            return;
        }

        using var store = OpenStore(options, log, runsUncached: false);
        if (store is not null)
        {
            work(options, store);
        }
    }

    /// <summary>Opens the store (see <see cref="TaskInputs.OpenStore"/>); null, with the error logged, when it cannot be used.</summary>
    private protected static CacheStore? OpenStore(PipelineOptions options, MSBuildPipelineLog log, bool runsUncached) =>
        TaskInputs.OpenStore(options.CacheDirectory, log, runsUncached);

    /// <summary>
    /// The options a run or plan uses against <paramref name="store"/>: against a newer engine's store, which is only
    /// stood in for by a scratch store, every step's cache is off (each executes, as with <c>EnablePipelineCache=false</c>).
    /// </summary>
    private protected static PipelineOptions Against(CacheStore store, PipelineOptions options) =>
        store.NewerSchema is null ? options : options with { CacheOverride = false };
}
