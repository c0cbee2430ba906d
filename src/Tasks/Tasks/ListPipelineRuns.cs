using System.Globalization;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Store;

namespace MLPipelines.Tasks;

/// <summary>The <c>ListPipelineRuns</c> target's task: the recent runs of this pipeline, newest first.</summary>
public sealed class ListPipelineRuns : PipelineTask
{
    /// <summary><c>PipelineRunsLimit</c>: how many runs to show (default 20).</summary>
    public string? Limit { get; set; }

    private protected override void ExecuteCore(MSBuildPipelineLog log)
    {
        var diagnostics = new List<Engine.PipelineDiagnostic>();
        var limit = PropertyParser.ParsePositiveInt(Limit, "PipelineRunsLimit", diagnostics) ?? 20;
        diagnostics.ForEach(log.Error);
        if (diagnostics.Count == 0)
        {
            WithStore(log, (options, store) => Print(log, options.PipelineName, store.ListRuns(limit, options.PipelineName)));
        }
    }

    private static void Print(MSBuildPipelineLog log, string pipeline, IReadOnlyList<RunRecord> runs)
    {
        // The TOOLS column only when a shown run recorded tool versions: a pipeline without PipelineTool keeps its table.
        var withTools = runs.Any(r => r.Tools is { Count: > 0 });
        log.Message($"Runs of pipeline {pipeline} (newest first, {runs.Count} shown):");
        // REMOTE: hits restored from the remote cache (counted among CACHED); UPLOADED: entries this run sent to it.
        log.Message(Row(withTools, "RUN", "STARTED (UTC)", "DURATION", "STATUS", "CACHED", "EXECUTED", "FAILED", "HIT RATE", "SAVED", "REMOTE", "UPLOADED", "COMMIT", "TOOLS"));
        foreach (var run in runs)
        {
            var duration = run.EndedAt is { } end ? Seconds(end - run.StartedAt) : "-";
            var hitRate = HitRate.Cell(run.StepsCached, run.StepsCacheable);
            log.Message(Row(withTools, run.Id, run.StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), duration, run.Status,
                run.StepsCached.ToString(CultureInfo.InvariantCulture), run.StepsExecuted.ToString(CultureInfo.InvariantCulture),
                run.StepsFailed.ToString(CultureInfo.InvariantCulture), hitRate, Seconds(run.TimeSaved),
                run.RemoteHits.ToString(CultureInfo.InvariantCulture), run.RemoteUploads.ToString(CultureInfo.InvariantCulture), run.GitCommit?[..Math.Min(12, run.GitCommit.Length)] ?? "-",
                ShownTools(run.Tools)));
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

    private static string Row(bool withTools, params string[] cells)
    {
        int[] widths = [22, 19, 8, 9, 6, 8, 6, 8, 8, 6, 8, 12, 0];
        return string.Join("  ", cells.Take(withTools ? cells.Length : cells.Length - 1).Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
    }
}
