using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using MLPipelines.Engine.Configuration;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// Finds the declared tools' versions (<c>PipelineTool</c>): each <c>VersionCommand</c> runs once per build, all at
/// once, before the first step's key, through the steps' shell (<see cref="StepProcess"/>: <c>sh -e</c>, its own
/// process group) in the project folder. So a pipeline's keys cost one version command per tool, never one per step.
/// </summary>
public static class ToolVersions
{
    /// <summary>How many lines of a failed command's output its error quotes (the last ones: where the reason is).</summary>
    private const int QuotedLines = 3;

    /// <summary>
    /// The version of each tool, by name (case-insensitive, in declaration order): its standard output, or its
    /// standard error when the output is empty (<c>python --version</c> before 3.4 writes there), each line trimmed
    /// and the non-empty ones joined with a space, so a version stays one line in the log and the run list.
    /// Null when <paramref name="tools"/> is empty. Null too when a command exits non-zero, cannot start or prints
    /// nothing: each such tool is then an MLP2012 error logged here (no key can be computed, so no step may run), and
    /// when the build is cancelled (nothing is logged: MSBuild says so).
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, string>?> FindAsync(
        IReadOnlyList<ToolDefinition> tools, string projectDirectory, IPipelineLog log, CancellationToken cancellationToken)
    {
        if (tools.Count == 0)
        {
            return null;
        }

        var found = await Task.WhenAll(tools.Select(tool => Task.Run(() => RunAsync(tool, projectDirectory, cancellationToken), CancellationToken.None))).ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        var versions = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var failed = false;
        foreach (var (tool, version, problem, milliseconds) in found)
        {
            if (problem is not null)
            {
                failed = true;
                log.Error(new PipelineDiagnostic(ErrorCodes.ToolVersionFailed, null,
                    $"The VersionCommand of tool '{tool.Name}' ('{tool.VersionCommand}') {problem}. Without its version no step's key is known, so no step runs. Fix the command, or install the tool."));
                continue;
            }

            versions[tool.Name] = version!;
            log.Detail(string.Create(CultureInfo.InvariantCulture, $"Tool {tool.Name}: {version} (from '{tool.VersionCommand}', {milliseconds} ms)."));
        }

        return failed ? null : versions;
    }

    private static async Task<(ToolDefinition Tool, string? Version, string? Problem, long Milliseconds)> RunAsync(
        ToolDefinition tool, string projectDirectory, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var output = new List<string>();
        var errors = new List<string>();
        var all = new List<string>();
        int exitCode;
        try
        {
            exitCode = await StepProcess.RunAsync(tool.VersionCommand, projectDirectory, [],
                line => { lock (all) { output.Add(line); all.Add(line); } },
                cancellationToken,
                line => { lock (all) { errors.Add(line); all.Add(line); } }).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return (tool, null, "was cancelled", clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is Win32Exception or IOException or UnauthorizedAccessException)
        {
            return (tool, null, $"could not start: {e.Message}", clock.ElapsedMilliseconds);
        }

        lock (all)
        {
            if (exitCode != 0)
            {
                var tail = all.Where(l => l.Trim().Length > 0).TakeLast(QuotedLines).Select(l => l.Trim()).ToList();
                return (tool, null, $"failed with exit code {exitCode}" + (tail.Count > 0 ? $": {string.Join(" / ", tail)}" : ""), clock.ElapsedMilliseconds);
            }

            var version = OneLine(output);
            if (version.Length == 0)
            {
                version = OneLine(errors);
            }

            return version.Length == 0
                ? (tool, null, "printed nothing, so it cannot tell one version from another", clock.ElapsedMilliseconds)
                : (tool, version, null, clock.ElapsedMilliseconds);
        }
    }

    private static string OneLine(IEnumerable<string> lines) =>
        string.Join(' ', lines.Select(l => l.Trim()).Where(l => l.Length > 0));
}
