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

        md.Append("\n```mermaid\nflowchart LR\n");
        // Ids are generated, never the step's name: a name can be a Mermaid keyword (end, graph) or start an edge
        // form (o-, x-), and a label in quotes with every unusual character as an entity code shows any name as is.
        var ids = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var step in result.Steps)
        {
            var id = ids[step.Name] = "s" + ids.Count.ToString(CultureInfo.InvariantCulture);
            md.Append(CultureInfo.InvariantCulture, $"  {id}[\"{MermaidLabel(step.Name)}\"]:::{RunSummary.OutcomeName(step.Outcome)}\n");
        }

        foreach (var step in result.Steps.Where(s => graph.Contains(s.Name)))
        {
            foreach (var upstream in graph.UpstreamOf(step.Name).Where(ids.ContainsKey))
            {
                md.Append(CultureInfo.InvariantCulture, $"  {ids[upstream]} --> {ids[step.Name]}\n");
            }
        }

        md.Append("  classDef cached fill:#dafbe1,stroke:#1a7f37,color:#0d3d1b\n");
        md.Append("  classDef executed fill:#ddf4ff,stroke:#0969da,color:#0a3069\n");
        md.Append("  classDef failed fill:#ffebe9,stroke:#cf222e,color:#82071e\n");
        md.Append("  classDef notrun fill:#f6f8fa,stroke:#8c959f,color:#57606a,stroke-dasharray: 4 3\n");
        md.Append("```\n\n");
        return md.ToString();
    }

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

    /// <summary>
    /// A Mermaid label for inside double quotes: letters, digits and <c>. - _</c> and spaces as they are, every other
    /// character as Mermaid's entity code (<c>#34;</c>), so no name can close the quote, the node or the code fence.
    /// </summary>
    internal static string MermaidLabel(string name)
    {
        var label = new StringBuilder(name.Length);
        foreach (var rune in name.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune) && rune.IsAscii || rune.Value is '.' or '-' or '_' or ' ')
            {
                label.Append(rune.ToString());
            }
            else
            {
                label.Append('#').Append(rune.Value.ToString(CultureInfo.InvariantCulture)).Append(';');
            }
        }

        return label.ToString();
    }
}
