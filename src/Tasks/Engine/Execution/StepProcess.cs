using System.Diagnostics;
using MLPipelines.Engine.Configuration;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// Runs a command line through the shell, as MSBuild's Exec does (<c>/bin/sh -c</c>, <c>cmd /c</c>), streaming each
/// line of its output as it is written. Cancellation kills the whole process tree.
/// </summary>
public static class StepProcess
{
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
            startInfo.Arguments = $"/d /s /c \"{command}\"";
        }
        else
        {
            startInfo.FileName = "/bin/sh";
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
