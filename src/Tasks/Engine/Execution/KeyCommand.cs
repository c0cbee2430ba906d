using System.ComponentModel;
using System.Text;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// A <c>CacheKeyCommand</c> that exited non-zero (<see cref="ExitCode"/>) or could not start (<see cref="NotStarted"/>:
/// a command line or environment too long for the operating system, a working directory that is not there): an
/// error, never a silent miss.
/// </summary>
public sealed class KeyCommandFailedException : Exception
{
    public KeyCommandFailedException(int exitCode, string errorTail = "")
        : base($"CacheKeyCommand exited with code {exitCode}.")
    {
        ExitCode = exitCode;
        ErrorTail = errorTail;
    }

    /// <summary>The sentence saying how its standard error ended (<see cref="StepLog.ErrorTailSentence"/>); empty when it did not run.</summary>
    public string ErrorTail { get; } = "";

    public KeyCommandFailedException(string notStarted)
        : base($"CacheKeyCommand could not start: {notStarted}.") => NotStarted = notStarted;

    /// <summary>The exit code; null when the command did not start.</summary>
    public int? ExitCode { get; }

    /// <summary>Why the command could not start (a sentence fragment naming the folder or the system's reason); null when it ran.</summary>
    public string? NotStarted { get; }
}

/// <summary>
/// Runs a step's <c>CacheKeyCommand</c> (a user's own cache function) and returns its standard output. It runs as a
/// step's command does (<see cref="StepProcess"/>: <c>sh -e</c>), so a line that fails makes the whole key command
/// fail (MLP2006) instead of giving a key made of the output of the lines that worked.
/// </summary>
public static class KeyCommand
{
    /// <summary>
    /// The key command's standard output. Throws <see cref="KeyCommandFailedException"/> when it exits non-zero or
    /// cannot start. Unlike the step's <c>Command</c>, it does not create a missing <c>WorkingDirectory</c>: it runs
    /// before the step, and in <c>PlanPipeline</c>, a dry run that must not change the project; and a folder that
    /// does not exist once the upstream steps are done holds nothing a key could describe (a typo, or a folder the
    /// step itself makes).
    /// </summary>
    /// <param name="strict"><c>PipelineStrictEnvironment</c>: the key command inherits what its step's command does; null: everything.</param>
    public static string Run(StepDefinition step, string projectDirectory, IPipelineLog log, CancellationToken cancellationToken, StrictEnvironment? strict = null)
    {
        var workingDirectory = ProjectPath.ToFull(projectDirectory, step.WorkingDirectory);
        if (File.Exists(workingDirectory))
        {
            throw new KeyCommandFailedException($"its WorkingDirectory '{step.WorkingDirectory}' is a file, not a folder: change WorkingDirectory");
        }

        if (!Directory.Exists(workingDirectory))
        {
            throw new KeyCommandFailedException(
                $"its WorkingDirectory '{step.WorkingDirectory}' does not exist (a key command runs before its step, and in PlanPipeline, " +
                "so it creates no folder: create it, produce it in an upstream step, or change WorkingDirectory)");
        }

        var output = new StringBuilder();
        var errors = new StepLog(StepLog.ErrorTailChars);
        int exitCode;
        try
        {
            exitCode = StepProcess.RunAsync(
                step.CacheKeyCommand!,
                workingDirectory,
                StepProcess.EnvironmentOf(step),
                line => output.Append(line).Append('\n'),
                cancellationToken,
                line =>
                {
                    errors.Add(line, isError: true);
                    log.StepOutput(step.Name, line);
                },
                strict?.InheritedBy(step)).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is Win32Exception or IOException or UnauthorizedAccessException)
        {
            throw new KeyCommandFailedException(e.Message);
        }

        return exitCode == 0 ? output.ToString() : throw new KeyCommandFailedException(exitCode, errors.ErrorTailSentence(StepLog.SecretsOf(step)));
    }
}
