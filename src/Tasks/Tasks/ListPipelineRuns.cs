using System.Globalization;
using MLPipelines.Engine.Configuration;
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
        log.Message($"Runs of pipeline {pipeline} (newest first, {runs.Count} shown):");
        // REMOTE: hits restored from the remote cache (counted among CACHED); UPLOADED: entries this run sent to it.
        log.Message(Row("RUN", "STARTED (UTC)", "DURATION", "STATUS", "CACHED", "EXECUTED", "FAILED", "HIT RATE", "SAVED", "REMOTE", "UPLOADED", "COMMIT"));
        foreach (var run in runs)
        {
            var duration = run.EndedAt is { } end ? Seconds(end - run.StartedAt) : "-";
            var hitRate = run.StepsTotal == 0 ? "-" : $"{Math.Round(100.0 * run.StepsCached / run.StepsTotal)}%";
            log.Message(Row(run.Id, run.StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), duration, run.Status,
                run.StepsCached.ToString(CultureInfo.InvariantCulture), run.StepsExecuted.ToString(CultureInfo.InvariantCulture),
                run.StepsFailed.ToString(CultureInfo.InvariantCulture), hitRate, Seconds(run.TimeSaved),
                run.RemoteHits.ToString(CultureInfo.InvariantCulture), run.RemoteUploads.ToString(CultureInfo.InvariantCulture), run.GitCommit?[..Math.Min(12, run.GitCommit.Length)] ?? "-"));
        }
    }

    private static string Seconds(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0}s");

    private static string Row(params string[] cells)
    {
        int[] widths = [22, 19, 8, 9, 6, 8, 6, 8, 8, 6, 8, 12];
        return string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
    }
}
