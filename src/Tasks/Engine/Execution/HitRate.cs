using System.Globalization;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// The one rule for a run's hit rate, shared by the log's summary line, the run reports (<c>PipelineSummaryFile</c>,
/// the GitHub job summary) and <c>ListPipelineRuns</c>: cached steps as a share of the <em>cacheable</em> steps, those
/// whose cache was on in the run (<c>EnableCache</c>, <c>EnablePipelineCache</c>). A step with its cache off always
/// executes, so counting it would keep such a pipeline below 100 % for ever (issue 11). Forced steps
/// (<c>PipelineForce</c>) stay cacheable: their cache is on, the miss was asked for. Steps that did not run count if
/// their cache was on, as DVC and Turborepo count tasks of a failed run.
/// </summary>
public static class HitRate
{
    /// <summary>
    /// Cached steps as a whole percentage (rounded half to even) of <paramref name="cacheable"/>; null when no step
    /// was cacheable, since then no hit was possible.
    /// </summary>
    public static int? Percent(int cached, int cacheable) =>
        cacheable <= 0 ? null : (int)Math.Round(100.0 * Math.Min(cached, cacheable) / cacheable);

    /// <summary>
    /// The phrase of a summary line: <c>hit rate 67%</c> when every step was cacheable, <c>hit rate 100% of 3
    /// cacheable steps</c> when some were not, <c>no cacheable steps</c> when none was (<paramref name="steps"/>: all
    /// steps of the run).
    /// </summary>
    public static string Describe(int cached, int cacheable, int steps) =>
        Percent(cached, cacheable) is not { } percent ? "no cacheable steps"
        : cacheable == steps ? string.Create(CultureInfo.InvariantCulture, $"hit rate {percent}%")
        : string.Create(CultureInfo.InvariantCulture, $"hit rate {percent}% of {cacheable} cacheable step{(cacheable == 1 ? "" : "s")}");

    /// <summary>A table cell: <c>67%</c>, or <c>-</c> when no step was cacheable.</summary>
    public static string Cell(int cached, int cacheable) =>
        Percent(cached, cacheable) is { } percent ? string.Create(CultureInfo.InvariantCulture, $"{percent}%") : "-";
}
