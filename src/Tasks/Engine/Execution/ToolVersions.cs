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
    /// <summary>What a tool without a version means, said after why it has none.</summary>
    private const string Consequence = ". Without its version no step's key is known, so no step runs. Fix the command, or install the tool.";

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
                // Tool: the error points at the <PipelineTool> element, as a step's errors point at its <Step>.
                log.Error(new PipelineDiagnostic(ErrorCodes.ToolVersionFailed, null,
                    $"The VersionCommand of tool '{tool.Name}' ('{tool.VersionCommand}') {problem}") { Tool = tool.Name });
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
        var tail = new StepLog(StepLog.ErrorTailChars);
        int exitCode;
        try
        {
            exitCode = await StepProcess.RunAsync(tool.VersionCommand, projectDirectory, [],
                line => { lock (all) { output.Add(line); all.Add(line); } },
                cancellationToken,
                line => { lock (all) { errors.Add(line); all.Add(line); tail.Add(line, isError: true); } }).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return (tool, null, "was cancelled", clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is Win32Exception or IOException or UnauthorizedAccessException)
        {
            return (tool, null, $"could not start: {e.Message}{Consequence}", clock.ElapsedMilliseconds);
        }

        lock (all)
        {
            if (exitCode != 0)
            {
                // Said as a failed step's MLP2001 says it: the exit code, then the end of its standard error on the same line.
                return (tool, null, $"failed with exit code {exitCode}{Consequence}{tail.ErrorTailSentence()}", clock.ElapsedMilliseconds);
            }

            var version = OneLine(output);
            if (version.Length == 0)
            {
                version = OneLine(errors);
            }

            return version.Length == 0
                ? (tool, null, "printed nothing, so it cannot tell one version from another" + Consequence, clock.ElapsedMilliseconds)
                : (tool, version, null, clock.ElapsedMilliseconds);
        }
    }

    private static string OneLine(IEnumerable<string> lines) =>
        string.Join(' ', lines.Select(l => l.Trim()).Where(l => l.Length > 0));
}
