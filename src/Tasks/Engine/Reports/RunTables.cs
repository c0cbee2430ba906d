using System.Globalization;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Store;

namespace MLPipelines.Engine.Reports;

/// <summary>
/// What <c>ListPipelineRuns</c> prints from the run records: the parameters and metrics of runs as columns (DVC's
/// <c>exp show</c>), one run in detail (<c>PipelineRun</c>), and what changed between two runs (<c>PipelineCompare</c>,
/// DVC's <c>params diff</c> and <c>metrics diff</c>). Text only, no MSBuild: each method returns the lines to log.
/// </summary>
public static class RunTables
{
    private static readonly string[] DetailHeader = ["STEP", "OUTCOME", "DURATION", "SAVED", "KEY", "PARAMETERS", "METRICS", "REASON"];
    private static readonly string[] CompareHeader = ["NAME", "KIND", "OLD", "NEW", "CHANGE"];

    /// <summary>
    /// The parameters and metrics a run's steps recorded, as named values: <c>train.Gamma</c> (a parameter),
    /// <c>evaluate.accuracy</c> (a metric). Parameters first, then metrics, each in step order (as recorded) and by name.
    /// </summary>
    public static IReadOnlyList<RunValue> ValuesOf(IReadOnlyList<StepRunRecord> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var values = new List<RunValue>();
        foreach (var step in steps)
        {
            foreach (var (name, value) in (step.Parameters ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                values.Add(new RunValue($"{step.Step}.{name}", RunValueKind.Parameter, value, Number(value)));
            }
        }

        foreach (var step in steps)
        {
            foreach (var (name, value) in (step.Metrics ?? new Dictionary<string, double>()).OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                values.Add(new RunValue($"{step.Step}.{name}", RunValueKind.Metric, Format(value), value));
            }
        }

        return values;
    }

    /// <summary>
    /// The value columns of a list of runs: every parameter or metric that at least one of them recorded, so the table
    /// holds only columns with values (a parameter no shown run had never widens it). Parameters first, then metrics,
    /// in the order the newest run that has them gives.
    /// </summary>
    public static IReadOnlyList<(string Name, RunValueKind Kind)> Columns(IEnumerable<IReadOnlyList<RunValue>> runs)
    {
        var seen = new HashSet<(string, RunValueKind)>();
        var columns = new List<(string Name, RunValueKind Kind)>();
        foreach (var value in (runs ?? throw new ArgumentNullException(nameof(runs))).SelectMany(r => r))
        {
            if (seen.Add((value.Name, value.Kind)))
            {
                columns.Add((value.Name, value.Kind));
            }
        }

        return columns.OrderBy(c => c.Kind).ToList(); // stable: keeps first-seen order within each kind
    }

    /// <summary>A cell of a value column: the value, <c>-</c> when the run did not record it, <c>""</c> for an empty parameter.</summary>
    public static string Cell(IReadOnlyList<RunValue> run, string name, RunValueKind kind) =>
        run.FirstOrDefault(v => v.Name == name && v.Kind == kind) is { } value ? Shown(value.Text) : "-";

    /// <summary>
    /// One run in detail: a title line with its status, start, duration, counts, hit rate (<see cref="HitRate"/>), time
    /// saved and commit, then a table of its steps: outcome, duration, time saved, key, parameters, metrics and why it
    /// missed, failed or did not run.
    /// </summary>
    public static IReadOnlyList<string> Detail(RunRecord run, IReadOnlyList<StepRunRecord> steps)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(steps);
        var duration = run.EndedAt is { } end ? Seconds(end - run.StartedAt) : "still running or stopped";
        // The steps a run never started (fail fast, a failed upstream step) are the ones the other counts leave.
        var notRun = run.StepsTotal - run.StepsCached - run.StepsExecuted - run.StepsFailed;
        var counts = string.Create(CultureInfo.InvariantCulture,
            $"{run.StepsTotal} step{(run.StepsTotal == 1 ? "" : "s")}, {run.StepsCached} cached, {run.StepsExecuted} executed, {run.StepsFailed} failed") +
            (notRun > 0 ? string.Create(CultureInfo.InvariantCulture, $", {notRun} not run") : "");
        var lines = new List<string>
        {
            $"Run {run.Id} of pipeline {run.Pipeline}: {run.Status}, started {Started(run)} UTC, {duration}; {counts}, " +
            $"{HitRate.Describe(run.StepsCached, run.StepsCacheable, run.StepsTotal)}, {Seconds(run.TimeSaved)} saved by hits; commit {run.GitCommit ?? "none"}.",
        };
        var rows = new List<string[]> { DetailHeader };
        rows.AddRange(steps.Select(s => new[]
        {
            s.Step,
            s.Outcome,
            Seconds(s.Duration),
            Seconds(s.Saved),
            s.Key ?? "-",
            s.Parameters is { Count: > 0 } p ? string.Join("; ", p.OrderBy(x => x.Key, StringComparer.Ordinal).Select(x => $"{x.Key}={x.Value}")) : "-",
            s.Metrics is { Count: > 0 } m ? string.Join("; ", m.OrderBy(x => x.Key, StringComparer.Ordinal).Select(x => $"{x.Key}={Format(x.Value)}")) : "-",
            s.Reason ?? "-",
        }));
        lines.AddRange(Aligned(rows));
        return lines;
    }

    /// <summary>
    /// What changed from <paramref name="older"/> to <paramref name="newer"/>: each parameter and metric whose value
    /// differs, was added or went away, with the old value, the new one and, when both are numbers, the change
    /// (new − old, signed). Unchanged values are only counted, as <c>dvc params diff</c> leaves them out.
    /// </summary>
    public static IReadOnlyList<string> Compare(RunRecord older, IReadOnlyList<StepRunRecord> olderSteps, RunRecord newer, IReadOnlyList<StepRunRecord> newerSteps)
    {
        ArgumentNullException.ThrowIfNull(older);
        ArgumentNullException.ThrowIfNull(newer);
        var before = ValuesOf(olderSteps);
        var after = ValuesOf(newerSteps);
        var lines = new List<string>
        {
            $"Changes of pipeline {newer.Pipeline} from run {older.Id} ({Started(older)} UTC, {older.Status}) to run {newer.Id} ({Started(newer)} UTC, {newer.Status}):",
        };
        var rows = new List<string[]> { CompareHeader };
        var unchanged = 0;
        foreach (var (name, kind) in Columns([after, before]))
        {
            var old = before.FirstOrDefault(v => v.Name == name && v.Kind == kind);
            var now = after.FirstOrDefault(v => v.Name == name && v.Kind == kind);
            if (old is not null && now is not null && old.Text == now.Text)
            {
                unchanged++;
                continue;
            }

            rows.Add([name, kind == RunValueKind.Metric ? "metric" : "parameter", old is null ? "-" : Shown(old.Text), now is null ? "-" : Shown(now.Text), Change(old?.Number, now?.Number)]);
        }

        if (rows.Count == 1)
        {
            lines.Add(unchanged == 0
                ? "Neither run recorded a parameter or metric."
                : string.Create(CultureInfo.InvariantCulture, $"No parameter or metric changed ({unchanged} unchanged)."));
            return lines;
        }

        lines.AddRange(Aligned(rows));
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"{rows.Count - 1} changed, {unchanged} unchanged."));
        return lines;
    }

    /// <summary>new − old, signed (<c>+0.03</c>, <c>-0.0019</c>, <c>0</c>); <c>-</c> unless both are numbers.</summary>
    private static string Change(double? old, double? now)
    {
        if (old is not { } a || now is not { } b)
        {
            return "-";
        }

        // In decimal where both fit, so 0.9667 -> 0.9333 shows -0.0334, not -0.033399999999999985.
        string text;
        try
        {
            var change = (decimal)b - (decimal)a;
            text = change.ToString(CultureInfo.InvariantCulture);
            if (text.Contains('.', StringComparison.Ordinal))
            {
                text = text.TrimEnd('0').TrimEnd('.');
            }

            return change > 0 ? "+" + text : text;
        }
        catch (OverflowException)
        {
            var change = b - a;
            text = Format(change);
            return change > 0 ? "+" + text : text;
        }
    }

    /// <summary>The shortest text that reads back as <paramref name="value"/>, invariant (<c>0.9667</c>, <c>1E+21</c>).</summary>
    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A parameter's value as a number when it reads as one (invariant), for the change column; else null.</summary>
    private static double? Number(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n) ? n : null;

    private static string Shown(string text) => text.Length == 0 ? "\"\"" : Configuration.StepParser.Shown(text);

    private static string Started(RunRecord run) => run.StartedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0}s");

    /// <summary>Rows as lines, each column as wide as its widest cell, separated by two spaces.</summary>
    public static IEnumerable<string> Aligned(IReadOnlyList<string[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var widths = Enumerable.Range(0, rows.Max(r => r.Length)).Select(i => rows.Max(r => i < r.Length ? r[i].Length : 0)).ToArray();
        return rows.Select(r => string.Join("  ", r.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
    }
}

/// <summary>Parameters before metrics, in tables and comparisons.</summary>
public enum RunValueKind
{
    Parameter,
    Metric,
}

/// <summary>A parameter or metric of a run: <c>step.name</c>, its text as recorded, and its value when it is a number.</summary>
public sealed record RunValue(string Name, RunValueKind Kind, string Text, double? Number);
