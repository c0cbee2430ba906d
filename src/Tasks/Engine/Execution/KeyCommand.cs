using System.Text;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// A <c>CacheKeyCommand</c> that exited non-zero, or could not start (a command line or environment too long for the
/// operating system, a working directory that is not there): an error, never a silent miss.
/// </summary>
public sealed class KeyCommandFailedException : Exception
{
    public KeyCommandFailedException(int exitCode)
        : base($"CacheKeyCommand exited with code {exitCode}.")
    {
        ExitCode = exitCode;
        Problem = $"failed with exit code {exitCode}";
    }

    public KeyCommandFailedException(Exception startFailure)
        : base($"CacheKeyCommand could not start: {startFailure?.Message}", startFailure)
    {
        ArgumentNullException.ThrowIfNull(startFailure);
        ExitCode = -1;
        Problem = $"could not start ({startFailure.Message})";
    }

    /// <summary>The exit code; -1 when the command could not start.</summary>
    public int ExitCode { get; }

    /// <summary>What went wrong, worded to follow "The CacheKeyCommand of step 'x' ": <c>failed with exit code 3</c>.</summary>
    public string Problem { get; }
}

/// <summary>
/// Runs a step's <c>CacheKeyCommand</c> (a user's own cache function) and returns its standard output. It runs as a
/// step's command does (<see cref="StepProcess"/>: <c>sh -e</c>), so a line that fails makes the whole key command
/// fail (MLP2006) instead of giving a key made of the output of the lines that worked.
/// </summary>
public static class KeyCommand
{
    public static string Run(StepDefinition step, string projectDirectory, IPipelineLog log, CancellationToken cancellationToken)
    {
        var output = new StringBuilder();
        int exitCode;
        try
        {
            exitCode = StepProcess.RunAsync(
                step.CacheKeyCommand!,
                ProjectPath.ToFull(projectDirectory, step.WorkingDirectory),
                StepProcess.EnvironmentOf(step),
                line => output.Append(line).Append('\n'),
                cancellationToken,
                line => log.StepOutput(step.Name, line)).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException)
        {
            throw new KeyCommandFailedException(e);
        }

        return exitCode == 0 ? output.ToString() : throw new KeyCommandFailedException(exitCode);
    }
}
