using System.Text;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Graph;

namespace MLPipelines.Engine.Reports;

/// <summary>
/// Writes the reports a run was asked for, once it is over (failed and cancelled runs too): the JSON summary
/// (<see cref="PipelineOptions.SummaryFile"/>) and the GitHub Actions step summary
/// (<see cref="PipelineOptions.GitHubStepSummary"/>). A report that cannot be written is warning MLP4004, never a
/// failed build: the run itself is what the build is about.
/// </summary>
public static class RunReports
{
    /// <summary>Writes what is asked for; with neither report asked for, returns at once, having built nothing.</summary>
    public static void Write(PipelineOptions options, PipelineGraph graph, PipelineRunResult result, IPipelineLog log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        if (options.SummaryFile is { } summaryFile)
        {
            Try(log, "The run summary (PipelineSummaryFile)", summaryFile, path =>
            {
                WriteAtomically(path, RunSummary.ToJson(RunSummary.Build(options.PipelineName, graph, result)));
                log.Message($"Summary of run {result.RunId} written to {path}.");
            });
        }

        if (options.GitHubStepSummary is { } stepSummary)
        {
            Try(log, $"The GitHub step summary ({GitHubStepSummary.Variable})", stepSummary, path =>
            {
                Append(path, GitHubStepSummary.Render(options.PipelineName, graph, result));
                log.Detail($"Appended the summary of run {result.RunId} to {path}.");
            });
        }
    }

    private static void Try(IPipelineLog log, string what, string path, Action<string> write)
    {
        try
        {
            // Checked here, not where the property is read: even a path no file can have only costs the report.
            if (path.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException("a path cannot hold a NUL character");
            }

            write(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            log.Warning(new PipelineDiagnostic(ErrorCodes.ReportNotWritten, null,
                $"{what} could not be written to '{path.Replace('\0', ' ')}' ({e.Message}). The build goes on; check that the folder exists and is writable."));
        }
    }

    /// <summary>
    /// Temp file beside the target, then rename: a reader (a CI step uploading it, a concurrent build) sees the old
    /// summary or the new one, never half of one.
    /// </summary>
    private static void WriteAtomically(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllText(temp, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp); // Gone after the rename; left only by a failure.
        }
    }

    /// <summary>
    /// Appends, never overwrites: GitHub shows what every job step wrote to the file, in order. Text that does not
    /// end its last line gets a line break first, so the section starts on a line of its own. One write in append
    /// mode, so two builds appending at once do not write over each other.
    /// </summary>
    private static void Append(string path, string markdown)
    {
        var text = EndsWithoutLineBreak(path) ? "\n" + markdown : markdown;
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));
    }

    private static bool EndsWithoutLineBreak(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (stream.Length == 0)
            {
                return false;
            }

            stream.Seek(-1, SeekOrigin.End);
            return stream.ReadByte() != '\n';
        }
        catch (FileNotFoundException)
        {
            return false; // Appending creates it.
        }
    }
}
