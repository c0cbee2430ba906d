using System.Globalization;
using System.Text.RegularExpressions;
using MLPipelines.Sdk.EndToEnd.TestKit;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>
/// Shortcuts of the operations tests (records, housekeeping, partial and resumed runs; the shared ones, such as the
/// target shortcuts, are in <see cref="PipelineRuns"/>): steps that count their executions, and the rows of
/// <c>ListPipelineRuns</c> read back from the log.
/// </summary>
internal static partial class OperationsKit
{
    /// <summary>
    /// A step that appends a line to <c>&lt;name&gt;.log</c> every time its command runs (the log is not an output,
    /// so it counts real executions, never restores), then runs <paramref name="command"/>.
    /// </summary>
    public static PipelineProject CountedStep(
        this PipelineProject project,
        string name,
        string command,
        string? inputs = null,
        string? outputs = null,
        string? parameters = null)
    {
        ArgumentNullException.ThrowIfNull(project);
        return project.Step(name, $"echo ran >> {name}.log && {command}", inputs: inputs, outputs: outputs, parameters: parameters);
    }

    /// <summary>How many times the command of a <see cref="CountedStep"/> ran.</summary>
    public static int Executions(this Workspace workspace, string step) =>
        workspace.FileExists($"{step}.log") ? workspace.ReadFile($"{step}.log").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length : 0;

    /// <summary>
    /// The rows ListPipelineRuns printed, in log order (its header and title lines left out), read by the header's
    /// column names: the twelve fixed columns, then any parameter and metric columns (<see cref="ListedRun.Values"/>),
    /// then TOOLS when a shown run recorded tool versions.
    /// </summary>
    public static IReadOnlyList<ListedRun> ListedRuns(this BuildResult result)
    {
        var rows = new List<ListedRun>();
        string[]? header = null;
        foreach (string line in result.Lines.Select(l => l.Trim()))
        {
            if (line.StartsWith("RUN  ", StringComparison.Ordinal))
            {
                // RUN and STARTED (UTC) are matched by the row pattern; the cells after them follow the rest of the header.
                header = CellSeparator().Split(line).Skip(2).ToArray();
                Assert.Equal(["DURATION", "STATUS", "CACHED", "EXECUTED", "FAILED", "HIT RATE", "SAVED", "REMOTE", "UPLOADED", "COMMIT"], header.Take(10));
                continue;
            }

            Match match = RunRow().Match(line);
            if (match.Success)
            {
                Assert.True(header is not null, $"A ListPipelineRuns row before its header: \"{line}\"\n{result}");
                string[] cells = CellSeparator().Split(match.Groups["rest"].Value.Trim());
                Assert.True(cells.Length == header.Length, $"A ListPipelineRuns row should have a cell for each of {header.Length + 2} columns: \"{line}\"\n{result}");
                var byName = header.Zip(cells).ToDictionary(c => c.First, c => c.Second, StringComparer.Ordinal);
                rows.Add(new ListedRun(
                    match.Groups["id"].Value,
                    DateTime.ParseExact(match.Groups["started"].Value, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    cells[0],
                    cells[1],
                    int.Parse(cells[2], CultureInfo.InvariantCulture),
                    int.Parse(cells[3], CultureInfo.InvariantCulture),
                    int.Parse(cells[4], CultureInfo.InvariantCulture),
                    cells[5],
                    double.Parse(cells[6].TrimEnd('s'), CultureInfo.InvariantCulture),
                    cells[9],
                    byName.GetValueOrDefault("TOOLS"))
                {
                    RemoteHits = int.Parse(cells[7], CultureInfo.InvariantCulture),
                    RemoteUploads = int.Parse(cells[8], CultureInfo.InvariantCulture),
                    Values = header.Skip(10).Where(h => h != "TOOLS").ToDictionary(h => h, h => byName[h], StringComparer.Ordinal),
                });
            }
        }

        return rows;
    }

    // A run id (yyyyMMdd-HHmmss-xxxxxx), the start time, then the other columns separated by runs of spaces.
    [GeneratedRegex(@"^(?<id>\d{8}-\d{6}-[0-9a-f]+)\s+(?<started>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\s+(?<rest>.+)$")]
    private static partial Regex RunRow();

    [GeneratedRegex(@"\s{2,}")]
    private static partial Regex CellSeparator();
}

/// <summary>One row of ListPipelineRuns: RUN, STARTED (UTC), DURATION, STATUS, CACHED, EXECUTED, FAILED, HIT RATE, SAVED, REMOTE, UPLOADED, COMMIT, and TOOLS when a shown run recorded tool versions.</summary>
internal sealed record ListedRun(
    string Id,
    DateTime StartedUtc,
    string Duration,
    string Status,
    int Cached,
    int Executed,
    int Failed,
    string HitRate,
    double SavedSeconds,
    string Commit,
    string? Tools = null)
{
    /// <summary>Column REMOTE: steps restored from the remote cache.</summary>
    public int RemoteHits { get; init; }

    /// <summary>Column UPLOADED: entries the run uploaded to the remote cache.</summary>
    public int RemoteUploads { get; init; }

    /// <summary>The parameter and metric columns (<c>train.Gamma</c>, <c>evaluate.accuracy</c>) by header, each cell as printed.</summary>
    public IReadOnlyDictionary<string, string> Values { get; init; } = new Dictionary<string, string>();
}
