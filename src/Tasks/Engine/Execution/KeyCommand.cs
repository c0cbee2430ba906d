using System.Text;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Execution;

/// <summary>A <c>CacheKeyCommand</c> that exited non-zero: an error, never a silent miss.</summary>
public sealed class KeyCommandFailedException(int exitCode) : Exception($"CacheKeyCommand exited with code {exitCode}.")
{
    public int ExitCode { get; } = exitCode;
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
        var exitCode = StepProcess.RunAsync(
            step.CacheKeyCommand!,
            ProjectPath.ToFull(projectDirectory, step.WorkingDirectory),
            StepProcess.EnvironmentOf(step),
            line => output.Append(line).Append('\n'),
            cancellationToken,
            line => log.StepOutput(step.Name, line)).GetAwaiter().GetResult();
        return exitCode == 0 ? output.ToString() : throw new KeyCommandFailedException(exitCode);
    }
}
