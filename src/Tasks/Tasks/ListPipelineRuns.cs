using System.Globalization;
using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Reports;
using MLPipelines.Engine.Store;

namespace MLPipelines.Tasks;

/// <summary>
/// The <c>ListPipelineRuns</c> target's task: the recent runs of this pipeline, newest first, with their parameters
/// and metrics as columns; or one run in detail (<c>PipelineRun</c>); or what changed between two runs
/// (<c>PipelineCompare</c>).
/// </summary>
public sealed class ListPipelineRuns : PipelineTask
{
    /// <summary><c>PipelineRunsLimit</c>: how many runs to show (default 20).</summary>
    public string? Limit { get; set; }

    /// <summary><c>PipelineRun</c>: a run id (as the list shows it) to show in detail, step by step.</summary>
    public string? Run { get; set; }

    /// <summary>
    /// <c>PipelineCompare</c>: <c>&lt;old-run&gt;,&lt;new-run&gt;</c> (<c>;</c> and <c>..</c> also separate), or one
    /// run id, which is compared with the run of the pipeline that started before it.
    /// </summary>
    public string? Compare { get; set; }

    private protected override void ExecuteCore(MSBuildPipelineLog log)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var limit = PropertyParser.ParsePositiveInt(Limit, "PipelineRunsLimit", diagnostics) ?? 20;
        // One id, read as the other properties that name runs or steps: spaces and a stray ';' or ',' are ignored
        // (a run id holds neither); two ids are a comparison, which PipelineCompare makes.
        var runIds = StepParser.SplitNames(Run);
        var run = runIds.Count == 1 ? runIds[0] : null;
        if (runIds.Count > 1)
        {
            diagnostics.Add(new(ErrorCodes.InvalidProperty, null,
                $"Property PipelineRun='{StepParser.Shown(Run!)}' is not valid: give one run id. To see what changed between runs, give them to PipelineCompare ('<old-run>..<new-run>')."));
        }

        // `a..b` as git writes a range: MSBuild's -p: splits its value at `,` and `;` unless quoted (MSB1006).
        var compare = (Compare ?? "").Replace("..", ",", StringComparison.Ordinal).Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (compare.Length > 2 || (compare.Length == 0 && !string.IsNullOrWhiteSpace(Compare)))
        {
            diagnostics.Add(new(ErrorCodes.InvalidProperty, null,
                $"Property PipelineCompare='{StepParser.Shown(Compare!)}' is not valid: give two run ids, '<old-run>..<new-run>' (or '\"<old-run>,<new-run>\"', quoted), or one run id to compare it with the run before it. ListPipelineRuns lists the run ids."));
        }

        diagnostics.ForEach(log.Error);
        if (diagnostics.Count > 0 || RefuseStepSelection(log, "ListPipelineRuns", "lists whole runs of the pipeline"))
        {
            return;
        }

        WithStore(log, (options, store) =>
        {
            if (run is null && compare.Length == 0)
            {
                var runs = store.ListRuns(limit, options.PipelineName);
                Print(log, options.PipelineName, store, runs);
                if (runs.Count == 0)
                {
                    // A mistyped -p:PipelineName would otherwise list nothing without a word: say what the store holds.
                    var others = store.ListRuns(1000).Select(r => r.Pipeline).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
                    if (others.Count > 0)
                    {
                        log.Message($"No run of pipeline {options.PipelineName} is recorded in this cache; it holds runs of: {string.Join(", ", others)}.");
                    }
                }

                return;
            }

            if (run is not null && Find(log, store, options.PipelineName, run, "PipelineRun") is { } detailed)
            {
                RunTables.Detail(detailed, store.FindRunSteps(detailed.Id) ?? []).ToList().ForEach(log.Message);
            }

            if (compare.Length > 0)
            {
                PrintComparison(log, store, options.PipelineName, compare);
            }
        });
    }

    /// <summary>The run <paramref name="id"/> of this pipeline; null, with MLP1017 logged, when the store has no record of it.</summary>
    private static RunRecord? Find(MSBuildPipelineLog log, CacheStore store, string pipeline, string id, string property)
    {
        if (store.FindRun(id) is { } found && found.Pipeline == pipeline)
        {
            return found;
        }

        log.Error(new(ErrorCodes.UnknownRun, null,
            $"{property} names run '{StepParser.Shown(id)}', which the pipeline cache has no record of for pipeline {pipeline}. `dotnet build -t:ListPipelineRuns` lists the recorded run ids."));
        return null;
    }

    private static void PrintComparison(MSBuildPipelineLog log, CacheStore store, string pipeline, string[] ids)
    {
        var newer = Find(log, store, pipeline, ids[^1], "PipelineCompare");
        var older = ids.Length == 2 ? Find(log, store, pipeline, ids[0], "PipelineCompare") : null;
        if (newer is null || (ids.Length == 2 && older is null))
        {
            return;
        }

        // One id: that run against the run before it, as `dvc metrics diff` compares the workspace with HEAD.
        older ??= store.FindPreviousRun(newer);
        if (older is null)
        {
            log.Error(new(ErrorCodes.NoRunToCompare, null,
                $"PipelineCompare names only run '{newer.Id}', and pipeline {pipeline} has no earlier recorded run to compare it with. Give two run ids: '<old-run>..<new-run>'."));
            return;
        }

        RunTables.Compare(older, store.FindRunSteps(older.Id) ?? [], newer, store.FindRunSteps(newer.Id) ?? []).ToList().ForEach(log.Message);
    }

    private static void Print(MSBuildPipelineLog log, string pipeline, CacheStore store, IReadOnlyList<RunRecord> runs)
    {
        // The TOOLS column only when a shown run recorded tool versions: a pipeline without PipelineTool keeps its table.
        var withTools = runs.Any(r => r.Tools is { Count: > 0 });
        // Parameters and metrics as columns (DVC's exp show), only those some shown run recorded.
        var values = runs.Select(r => RunTables.ValuesOf(store.FindRunSteps(r.Id) ?? [])).ToList();
        var columns = RunTables.Columns(values);
        var widths = columns.Select((c, i) => Math.Max(c.Name.Length, values.Max(v => RunTables.Cell(v, c.Name, c.Kind).Length))).ToList();
        log.Message($"Runs of pipeline {pipeline} (newest first, {runs.Count} shown):");
        // REMOTE: hits restored from the remote cache (counted among CACHED); UPLOADED: entries this run sent to it.
        log.Message(Row(withTools, widths, ["RUN", "STARTED (UTC)", "DURATION", "STATUS", "CACHED", "EXECUTED", "FAILED", "HIT RATE", "SAVED", "REMOTE", "UPLOADED", "COMMIT"],
            columns.Select(c => c.Name), "TOOLS"));
        for (var i = 0; i < runs.Count; i++)
        {
            var run = runs[i];
            var duration = run.EndedAt is { } end ? Seconds(end - run.StartedAt) : "-";
            log.Message(Row(withTools, widths, [run.Id, run.StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), duration, run.Status,
                run.StepsCached.ToString(CultureInfo.InvariantCulture), run.StepsExecuted.ToString(CultureInfo.InvariantCulture),
                run.StepsFailed.ToString(CultureInfo.InvariantCulture), HitRate.Cell(run.StepsCached, run.StepsCacheable), Seconds(run.TimeSaved),
                run.RemoteHits.ToString(CultureInfo.InvariantCulture), run.RemoteUploads.ToString(CultureInfo.InvariantCulture), run.GitCommit?[..Math.Min(12, run.GitCommit.Length)] ?? "-"],
                columns.Select(c => RunTables.Cell(values[i], c.Name, c.Kind)), ShownTools(run.Tools)));
        }
    }

    /// <summary>
    /// <c>python=Python 3.12.1; dotnet=10.0.100</c>, by tool name; a version longer than
    /// <see cref="MaxShownVersion"/> characters is cut (the record keeps it whole). <c>-</c> when none were recorded.
    /// </summary>
    private static string ShownTools(IReadOnlyDictionary<string, string>? tools) =>
        tools is not { Count: > 0 } ? "-"
        : string.Join("; ", tools.Select(t => $"{t.Key}={(t.Value.Length <= MaxShownVersion ? t.Value : t.Value[..(MaxShownVersion - 1)] + "…")}"));

    private const int MaxShownVersion = 40;

    private static string Seconds(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0}s");

    /// <summary>The fixed columns at their widths, then the value columns at <paramref name="valueWidths"/>, then TOOLS when shown.</summary>
    private static string Row(bool withTools, List<int> valueWidths, string[] fixedCells, IEnumerable<string> valueCells, string tools)
    {
        int[] widths = [22, 19, 8, 9, 6, 8, 6, 8, 8, 6, 8, 12];
        var cells = fixedCells.Select((c, i) => c.PadRight(widths[i]))
            .Concat(valueCells.Select((c, i) => c.PadRight(valueWidths[i])));
        return string.Join("  ", withTools ? cells.Append(tools) : cells).TrimEnd();
    }
}
