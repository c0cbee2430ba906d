namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>What a finished child process did. <see cref="ToString"/> is the whole story, for assertion messages.</summary>
public sealed record ProcessResult(
    string CommandLine,
    string WorkingDirectory,
    int ExitCode,
    bool TimedOut,
    TimeSpan Duration,
    string Output)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>Throws with the command and its whole output unless it exited with 0.</summary>
    public ProcessResult EnsureSucceeded()
    {
        Assert.True(Succeeded, ToString());
        return this;
    }

    public override string ToString() =>
        $"> {CommandLine}\n  (in {WorkingDirectory}; exit code {ExitCode}{(TimedOut ? ", timed out" : "")}, {Duration.TotalSeconds:0.0}s)\n{Output}";
}
