using System.Collections;
using System.Diagnostics;
using System.Text;

namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>
/// Runs a child process with a clean environment, captures stdout and stderr interleaved as they arrive, and kills
/// the whole process tree when it overruns its timeout. Shared by the pack, the builds and any other tool a test needs.
/// </summary>
public static class ProcessRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(3);

    // Set by `dotnet test`, `dotnet build` and MSBuild nodes for themselves. Inherited by a child `dotnet`, they make
    // it load the test host's MSBuild, SDK resolver or targets instead of resolving its own.
    private static readonly string[] HostVariablePrefixes = ["MSBUILD", "VSTEST", "TESTINGPLATFORM", "_MSBUILD"];
    private static readonly string[] HostVariables = ["DOTNET_HOST_PATH", "DOTNET_LAUNCH_PROFILE", "DOTNET_STARTUP_HOOKS"];

    // Keeps the builds of a test from talking to processes that outlive it: a reused node or build server would keep
    // an older copy of the task assembly loaded.
    private static readonly Dictionary<string, string> FixedVariables = new(StringComparer.Ordinal)
    {
        ["MSBUILDDISABLENODEREUSE"] = "1",
        ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        // Messages the tests look for (MSBuild's own "Build succeeded.") must not depend on the machine's language.
        ["DOTNET_CLI_UI_LANGUAGE"] = "en",
    };

    /// <summary>The <c>dotnet</c> that runs these tests, so the builds use the same SDK; else the one on PATH.</summary>
    public static string DotnetExecutable { get; } = FindDotnet();

    /// <summary>The full path of <paramref name="name"/> on PATH, or null: lets a test skip a tool that is not installed.</summary>
    public static string? FindOnPath(string name)
    {
        string[] extensions = OperatingSystem.IsWindows() ? [".exe", ".cmd", ".bat", ""] : [""];
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (directory.Length == 0)
            {
                continue;
            }

            foreach (string extension in extensions)
            {
                string candidate = Path.Combine(directory, name + extension);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Runs <paramref name="fileName"/> to completion. <paramref name="environment"/> adds or (with a null value)
    /// removes variables on top of the cleaned environment. <paramref name="onLine"/> sees each line as it arrives,
    /// on a reader thread: how a test reacts to a process while it still runs.
    /// </summary>
    public static ProcessResult Run(
        string fileName,
        IEnumerable<string> arguments,
        string workingDirectory,
        IEnumerable<KeyValuePair<string, string?>>? environment = null,
        TimeSpan? timeout = null,
        Action<string>? onLine = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        TimeSpan limit = timeout ?? DefaultTimeout;
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // A closed stdin: nothing a build starts may sit waiting for a keyboard.
            RedirectStandardInput = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        CleanEnvironment(startInfo.Environment);
        foreach (KeyValuePair<string, string?> variable in environment ?? [])
        {
            startInfo.Environment[variable.Key] = variable.Value;
        }

        var output = new StringBuilder();
        var gate = new Lock();
        void Append(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is not null)
            {
                lock (gate)
                {
                    output.Append(e.Data).Append('\n');
                }

                onLine?.Invoke(e.Data);
            }
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        bool timedOut = false;
        using (var deadline = new CancellationTokenSource(limit))
        {
            try
            {
                // Unlike WaitForExit(int), this also waits for the last lines of redirected output.
                process.WaitForExitAsync(deadline.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                // Either the process overran, or it exited but something it started still holds its output open.
                timedOut = !process.HasExited;
                process.Kill(entireProcessTree: true);
                process.WaitForExit(TimeSpan.FromSeconds(30));
            }
        }

        stopwatch.Stop();
        string commandLine = FormatCommandLine(fileName, startInfo.ArgumentList);
        lock (gate)
        {
            if (timedOut)
            {
                output.Append($"*** {commandLine} timed out after {limit} and was killed with its process tree.\n");
            }

            return new ProcessResult(
                commandLine,
                workingDirectory,
                process.HasExited ? process.ExitCode : -1,
                timedOut,
                stopwatch.Elapsed,
                output.ToString());
        }
    }

    private static void CleanEnvironment(IDictionary<string, string?> environment)
    {
        foreach (string name in environment.Keys.ToList())
        {
            if (HostVariables.Contains(name, StringComparer.OrdinalIgnoreCase)
                || HostVariablePrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
            {
                environment.Remove(name);
            }
        }

        foreach (KeyValuePair<string, string> variable in FixedVariables)
        {
            environment[variable.Key] = variable.Value;
        }
    }

    private static string FindDotnet()
    {
        // `dotnet test` points DOTNET_HOST_PATH at the host that runs it.
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        return FindOnPath("dotnet") ?? "dotnet";
    }

    private static string FormatCommandLine(string fileName, IEnumerable<string> arguments) =>
        string.Join(' ', new[] { fileName }.Concat(arguments).Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
}
