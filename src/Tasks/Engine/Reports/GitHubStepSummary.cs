using System.Globalization;
using System.Text;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Graph;

namespace MLPipelines.Engine.Reports;

/// <summary>
/// The Markdown summary appended to GitHub Actions' <c>GITHUB_STEP_SUMMARY</c> file: the totals line, a table of the
/// steps, and the pipeline as a Mermaid flowchart with each step coloured by its outcome.
/// </summary>
public static class GitHubStepSummary
{
    /// <summary>The variable GitHub Actions sets to the file each job step's summary is appended to.</summary>
    public const string Variable = "GITHUB_STEP_SUMMARY";

    /// <summary>
    /// The Markdown of one run, starting and ending with a blank line, so it reads as its own section whatever the file
    /// already holds (several projects of one build, or several job steps, append to the same summary).
    /// </summary>
    public static string Render(string pipeline, PipelineGraph graph, PipelineRunResult result)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(result);
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"\n### Pipeline {Text(pipeline)}: {result.Status}\n\n");
        md.Append(Totals(result)).Append("\n\n");

        md.Append("| Step | Outcome | Reason | Duration | Saved |\n|---|---|---|---:|---:|\n");
        foreach (var step in result.Steps)
        {
            var outcome = RunSummary.OutcomeName(step.Outcome) + (step.Outcome == StepOutcome.Cached && step.Remote ? " (remote)" : "");
            var saved = step.Outcome == StepOutcome.Cached ? Seconds(step.Saved) : "";
            md.Append(CultureInfo.InvariantCulture, $"| {Text(step.Name)} | {outcome} | {Text(step.MissReason ?? "")} | {Seconds(step.Duration)} | {saved} |\n");
        }

        var nodes = result.Steps.Select(s => new DiagramNode(s.Name, null, RunSummary.OutcomeName(s.Outcome))).ToList();
        md.Append("\n```mermaid\n").Append(PipelineDiagram.Mermaid(nodes, graph, OutcomeStyles));
        md.Append("```\n\n");
        return md.ToString();
    }

    // Keyed by RunSummary.OutcomeName, the class of each node.
    private static readonly KeyValuePair<string, DiagramStyle>[] OutcomeStyles =
    [
        new("cached", DiagramStyle.Restored),
        new("executed", DiagramStyle.Executes),
        new("failed", DiagramStyle.Failed),
        new("notrun", DiagramStyle.Waiting),
    ];

    /// <summary>The totals line, like the log's summary line, with the time hits saved and the remote cache's share.</summary>
    private static string Totals(PipelineRunResult result)
    {
        var parts = new List<string> { result.Counts(), result.HitRateText };
        parts.Add(Seconds(result.Duration));
        parts.Add($"{Seconds(result.Steps.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.Saved))} saved by hits");
        if (result.Steps.Count(s => s.Outcome == StepOutcome.Cached && s.Remote) is > 0 and var remote)
        {
            parts.Add($"{remote} from the remote cache");
        }

        if (result.RemoteUploads > 0)
        {
            parts.Add($"{result.RemoteUploads} uploaded");
        }

        var commit = result.GitCommit is { } sha ? $", commit `{sha}`" : "";
        return $"{string.Join(", ", parts)}. Run `{result.RunId}`{commit}.";
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";

    /// <summary>
    /// Text for a Markdown table cell or heading: one line, a <c>|</c> that does not end the cell, HTML's characters as
    /// entities, and the characters that start emphasis, code or links escaped, so a reason or name shows as written.
    /// </summary>
    internal static string Text(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            switch (c)
            {
                case '&': escaped.Append("&amp;"); break;
                case '<': escaped.Append("&lt;"); break;
                case '>': escaped.Append("&gt;"); break;
                case '\r' or '\n': escaped.Append(' '); break;
                case '\\' or '|' or '*' or '_' or '`' or '[' or ']' or '~' or '#': escaped.Append('\\').Append(c); break;
                default: escaped.Append(c); break;
            }
        }

        return escaped.ToString();
    }
}
