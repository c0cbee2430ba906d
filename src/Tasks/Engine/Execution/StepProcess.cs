using System.Diagnostics;
using System.Runtime.InteropServices;
using MLPipelines.Engine.Configuration;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// Runs a command line through the shell, as MSBuild's Exec does (<c>/bin/sh</c>, <c>cmd</c>), streaming each line of
/// its output as it is written. Unlike Exec, a multi-line command stops at its first failing line, as CI systems run
/// scripts (SPEC <c>Command</c>): a step that failed half-way must never exit 0 and be cached.
/// <para>
/// Nothing a command starts outlives it. On Unix the shell is started through <c>setsid</c>, so the command and
/// everything it starts share one new process group (and session: Ctrl+C in the terminal reaches the build, which
/// then stops the step, not the step's processes directly). When the shell exits, whatever is left of its group
/// (<c>sleep 300 &amp;</c>, <c>nohup server &amp;</c>) is killed, as Bazel's process wrapper kills an action's process
/// group: a step's result is what is on disk when it ends, so nothing may go on writing to it. A process that leaves
/// the group on purpose (<c>setsid</c>, a daemon) is not found, but it cannot hold the step either: its output is read
/// for at most <see cref="OutputDrainLimit"/> after the shell exits. Without a <c>setsid</c> program (macOS) and on
/// Windows, cancellation kills the shell's process tree instead (a Windows Job Object is not used).
/// </para>
/// </summary>
public static class StepProcess
{
    /// <summary>
    /// How long the output of a command is still read after its shell exits. The pipes close as soon as the last
    /// process holding them ends; a background process that left the step's group (or, without process groups, any
    /// background process) may hold them for hours. Two seconds let the last lines of ordinary processes arrive (they
    /// end with the shell) without letting such a process hold the build.
    /// </summary>
    public static readonly TimeSpan OutputDrainLimit = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The exit code of a command stopped by SIGINT: the shell reports 128 + the signal number (2) for a child it
    /// lost to SIGINT, and .NET reports the same for a shell killed by it. Such a step was stopped (Ctrl+C), it did not fail.
    /// </summary>
    public const int InterruptedExitCode = 130;

    // util-linux's setsid(1) makes the process it runs the leader of a new session and process group: with no fork
    // when it is not a group leader already (a child of this process never is), so the shell keeps the pid we see.
    private static readonly string? Setsid = OperatingSystem.IsWindows() ? null : FindSetsid();

    /// <summary>Whether commands run in a process group of their own (<c>setsid</c> found); otherwise tree kill only.</summary>
    public static bool UsesProcessGroups => Setsid is not null;

    /// <summary>
    /// Runs <paramref name="command"/> with <c>/bin/sh -e -c</c> (Unix) or <c>cmd /d /s /c</c> over
    /// <see cref="JoinLinesForCmd"/> (Windows) in <paramref name="workingDirectory"/>, and returns its exit code once
    /// the shell has exited, its leftover processes are killed and its output is read (at most
    /// <see cref="OutputDrainLimit"/> after the exit). Throws <see cref="OperationCanceledException"/> once the
    /// command's processes are killed on cancellation, and <see cref="System.ComponentModel.Win32Exception"/> when the
    /// shell cannot be started (the working directory does not exist, no shell).
    /// </summary>
    /// <param name="environment">Variables set for the command, over the inherited ones.</param>
    /// <param name="inherits">
    /// Which of the build's variables the command inherits (<see cref="StrictEnvironment.InheritedBy"/>); null: all
    /// (but the remote cache's, which no command gets).
    /// </param>
    public static async Task<int> RunAsync(
        string command,
        string workingDirectory,
        IEnumerable<KeyValuePair<string, string>> environment,
        Action<string> onLine,
        CancellationToken cancellationToken,
        Action<string>? onErrorLine = null,
        Func<string, bool>? inherits = null)
    {
        // The build's environment without the remote cache's credentials and signing key (ChildProcess).
        var startInfo = ChildProcess.StartInfo("", workingDirectory);
        if (inherits is not null)
        {
            ChildProcess.KeepOnly(startInfo, inherits);
        }

        startInfo.RedirectStandardInput = true;
        startInfo.StandardOutputEncoding = System.Text.Encoding.UTF8;
        startInfo.StandardErrorEncoding = System.Text.Encoding.UTF8;
        SetShell(startInfo, command, OperatingSystem.IsWindows(), Environment.GetEnvironmentVariable("ComSpec"), Setsid);

        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        // Not even when a step's Environment names one: a command never holds the remote cache's secrets.
        ChildProcess.RemoveRemoteCacheVariables(startInfo);

        using var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outputClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var errorClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = 1; // 0 once the drain limit passed: lines that still come are dropped, the step has ended.
        process.Exited += (_, _) => exited.TrySetResult();
        process.ErrorDataReceived += (_, e) => Forward(e.Data, errorClosed, onErrorLine ?? onLine);
        process.OutputDataReceived += (_, e) => Forward(e.Data, outputClosed, onLine);

        void Forward(string? line, TaskCompletionSource closed, Action<string> write)
        {
            if (line is null)
            {
                closed.TrySetResult();
            }
            else if (Volatile.Read(ref reading) == 1)
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
            // Not WaitForExitAsync: it also waits for the output to close, which a background process may hold.
            await exited.Task.ConfigureAwait(false);
            KillGroup(process.Id);
            try
            {
                await Task.WhenAll(outputClosed.Task, errorClosed.Task).WaitAsync(OutputDrainLimit, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Volatile.Write(ref reading, 0);
                process.CancelOutputRead();
                process.CancelErrorRead();
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        return process.ExitCode;
    }

    /// <summary>
    /// Sets the program and arguments that run <paramref name="command"/>: on Windows <paramref name="comSpec"/> (or
    /// <c>cmd.exe</c>) with <c>/d /s /c "…"</c> as one raw argument string (<see cref="CmdArguments"/>); elsewhere
    /// <c>[setsid] /bin/sh -e -c &lt;command&gt;</c> as an argument list, which .NET passes to exec unchanged. The
    /// platform is a parameter so the Windows form is tested on every platform.
    /// </summary>
    internal static void SetShell(ProcessStartInfo startInfo, string command, bool windows, string? comSpec, string? setsid)
    {
        if (windows)
        {
            startInfo.FileName = string.IsNullOrEmpty(comSpec) ? "cmd.exe" : comSpec;
            // Not ArgumentList: .NET would quote the command by the C runtime's rules (backslash-escaped quotes),
            // which cmd does not read. The command goes to cmd exactly as written, as MSBuild's Exec gives it.
            startInfo.Arguments = CmdArguments(command);
            return;
        }

        startInfo.FileName = setsid ?? "/bin/sh";
        if (setsid is not null)
        {
            startInfo.ArgumentList.Add("/bin/sh");
        }

        // -e: stop at the first command that fails, outside conditions and && / || lists (POSIX "set -e").
        startInfo.ArgumentList.Add("-e");
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(command);
    }

    /// <summary>
    /// cmd's arguments for <paramref name="command"/>: <c>/d /s /c "&lt;lines joined&gt;"</c>. <c>/d</c> skips the
    /// AutoRun commands of the registry (a user's <c>cd</c> or <c>echo</c> there would change every step); <c>/s</c>
    /// makes cmd strip exactly the first and the last quote of what follows <c>/c</c> and keep everything between
    /// as written, so quotes inside the command (<c>"C:\Program Files	ool.exe" "a b"</c>) reach cmd untouched
    /// (<c>cmd /?</c>, "processing of quote characters").
    /// </summary>
    public static string CmdArguments(string command) => $"/d /s /c \"{JoinLinesForCmd(command)}\"";

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
        KillGroup(process.Id);
        try
        {
            // Without process groups the tree is all there is; with them, this also catches a child that left the
            // group while the shell still runs (its parent link is what the tree walk follows).
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    /// <summary>SIGKILL to the process group <paramref name="leader"/> leads (started through <c>setsid</c>); a no-op without process groups.</summary>
    private static void KillGroup(int leader)
    {
        if (Setsid is not null)
        {
            // A negative pid addresses the group. ESRCH (nothing left of it) is the usual, harmless answer.
            _ = Native.Kill(-leader, Native.SIGKILL);
        }
    }

    private static string? FindSetsid()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin").Append("/bin")
            .Select(directory => Path.Combine(directory, "setsid"))
            .FirstOrDefault(File.Exists);
    }

    private static class Native
    {
        public const int SIGKILL = 9;

        [DllImport("libc", EntryPoint = "kill", SetLastError = true, ExactSpelling = true)]
        public static extern int Kill(int pid, int signal);
    }
}
