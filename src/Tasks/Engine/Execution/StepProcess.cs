using System.Diagnostics;
using MLPipelines.Engine.Configuration;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// Runs a command line through the shell, as MSBuild's Exec does (<c>/bin/sh</c>, <c>cmd</c>), streaming each line of
/// its output as it is written. Cancellation kills the whole process tree. Unlike Exec, a multi-line command stops at
/// its first failing line, as CI systems run scripts (SPEC <c>Command</c>): a step that failed half-way must never
/// exit 0 and be cached.
/// </summary>
public static class StepProcess
{
    /// <summary>
    /// Runs <paramref name="command"/> with <c>/bin/sh -e -c</c> (Unix) or <c>cmd /d /s /c</c> over
    /// <see cref="JoinLinesForCmd"/> (Windows) in <paramref name="workingDirectory"/>, and returns its exit code.
    /// Throws <see cref="OperationCanceledException"/> once the process tree is killed on cancellation, and
    /// <see cref="System.ComponentModel.Win32Exception"/> when the shell cannot be started.
    /// </summary>
    public static async Task<int> RunAsync(
        string command,
        string workingDirectory,
        IEnumerable<KeyValuePair<string, string>> environment,
        Action<string> onLine,
        CancellationToken cancellationToken,
        Action<string>? onErrorLine = null)
    {
        var startInfo = new ProcessStartInfo
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardOutputEncoding = System.Text.Encoding.UTF8,
            StandardErrorEncoding = System.Text.Encoding.UTF8,
        };
        if (OperatingSystem.IsWindows())
        {
            startInfo.FileName = Environment.GetEnvironmentVariable("ComSpec") ?? "cmd.exe";
            startInfo.Arguments = $"/d /s /c \"{JoinLinesForCmd(command)}\"";
        }
        else
        {
            // -e: stop at the first command that fails, outside conditions and && / || lists (POSIX "set -e").
            startInfo.FileName = "/bin/sh";
            startInfo.ArgumentList.Add("-e");
            startInfo.ArgumentList.Add("-c");
            startInfo.ArgumentList.Add(command);
        }

        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        using var process = new Process { StartInfo = startInfo };
        var outputClosed = new TaskCompletionSource();
        var errorClosed = new TaskCompletionSource();
        process.ErrorDataReceived += (_, e) => Forward(e.Data, errorClosed, onErrorLine ?? onLine);
        process.OutputDataReceived += (_, e) => Forward(e.Data, outputClosed, onLine);

        static void Forward(string? line, TaskCompletionSource closed, Action<string> write)
        {
            if (line is null)
            {
                closed.TrySetResult();
            }
            else
            {
                write(line);
            }
        }

        process.Start();
        process.StandardInput.Close(); // A step that reads standard input gets end-of-file, not a hung build.
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using (cancellationToken.Register(() => Kill(process)))
        {
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            await Task.WhenAll(outputClosed.Task, errorClosed.Task).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return process.ExitCode;
    }

    /// <summary>
    /// The Windows form of a command: its non-empty lines (trimmed) joined with <c> &amp;&amp; </c>, so that, as with
    /// <c>sh -e</c>, no line runs after one that failed. cmd has no such switch and, given several lines after
    /// <c>/c</c>, runs only the first. Comment lines (<c>rem</c>, <c>::</c>) are dropped: joined, they would swallow
    /// the lines after them. Limits: a block spanning lines (<c>if … (</c> … <c>)</c>) cannot be joined, and
    /// commands chained with a single <c>&amp;</c> on one line are not stopped.
    /// </summary>
    public static string JoinLinesForCmd(string command) =>
        string.Join(" && ", command.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !IsCmdComment(line)));

    private static bool IsCmdComment(string line) =>
        line.StartsWith("::", StringComparison.Ordinal) ||
        line.Equals("rem", StringComparison.OrdinalIgnoreCase) ||
        (line.Length > 3 && line.StartsWith("rem", StringComparison.OrdinalIgnoreCase) && char.IsWhiteSpace(line[3]));

    /// <summary>The environment a step's command gets: its <c>Environment</c> pairs and <c>PARAM_&lt;Name&gt;</c> for each parameter.</summary>
    public static IEnumerable<KeyValuePair<string, string>> EnvironmentOf(StepDefinition step) =>
        step.Parameters.Select(p => KeyValuePair.Create("PARAM_" + p.Name, p.Value))
            .Concat(step.Environment.Select(e => KeyValuePair.Create(e.Name, e.Value)));

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
