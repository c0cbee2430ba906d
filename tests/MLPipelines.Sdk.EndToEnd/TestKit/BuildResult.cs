using System.Text.RegularExpressions;

namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>
/// The outcome of one <c>dotnet build</c>/<c>dotnet msbuild</c>: exit code, the whole console log and the errors and
/// warnings parsed from it. <see cref="ToString"/> is the whole log, so a failing assertion shows what MSBuild said.
/// </summary>
public sealed partial class BuildResult
{
    internal BuildResult(ProcessResult process)
    {
        Process = process;
        // The terminal logger draws with escape sequences; tests look for text, not colours or cursor moves.
        Output = EscapeSequence().Replace(process.Output, "");
        Lines = Output.Split('\n').Select(line => line.TrimEnd('\r')).ToList();
        List<BuildMessage> messages = Lines.Select(BuildMessage.TryParse).OfType<BuildMessage>().Distinct().ToList();
        // MSBuild repeats every error and warning in its closing summary; each is listed once here.
        Errors = messages.Where(m => m.Severity == "error").ToList();
        Warnings = messages.Where(m => m.Severity == "warning").ToList();
    }

    public ProcessResult Process { get; }

    public bool Succeeded => Process.Succeeded;

    public int ExitCode => Process.ExitCode;

    public bool TimedOut => Process.TimedOut;

    public TimeSpan Duration => Process.Duration;

    /// <summary>stdout and stderr as they arrived, without terminal escape sequences.</summary>
    public string Output { get; }

    public IReadOnlyList<string> Lines { get; }

    public IReadOnlyList<BuildMessage> Errors { get; }

    public IReadOnlyList<BuildMessage> Warnings { get; }

    /// <summary>True when a line, without its indentation, is exactly <paramref name="text"/>.</summary>
    public bool HasLine(string text) => Lines.Any(line => line.Trim() == text);

    public bool Contains(string text) => Output.Contains(text, StringComparison.Ordinal);

    public IReadOnlyList<string> LinesContaining(string text) =>
        Lines.Where(line => line.Contains(text, StringComparison.Ordinal)).Select(line => line.Trim()).ToList();

    /// <summary>How many lines, without their indentation, are exactly <paramref name="text"/>.</summary>
    public int CountLines(string text) => Lines.Count(line => line.Trim() == text);

    public bool HasError(string code) => Errors.Any(e => e.Code == code);

    public bool HasWarning(string code) => Warnings.Any(w => w.Code == code);

    public BuildResult EnsureSucceeded()
    {
        Assert.True(Succeeded, $"Expected the build to succeed.\n{this}");
        return this;
    }

    public BuildResult EnsureFailed()
    {
        Assert.False(Succeeded, $"Expected the build to fail.\n{this}");
        return this;
    }

    /// <summary>Asserts that <paramref name="text"/> is a line of the log, showing the log when it is not.</summary>
    public BuildResult EnsureLine(string text)
    {
        Assert.True(HasLine(text), $"Expected the line \"{text}\" in the log.\n{this}");
        return this;
    }

    public override string ToString() => (Process with { Output = Output }).ToString();

    // CSI sequences (colours, cursor moves) and OSC sequences (titles, progress) as the terminal logger writes them.
    [GeneratedRegex(@"\x1B\[[0-?]*[ -/]*[@-~]|\x1B\][^\x07\x1B]*(?:\x07|\x1B\\)|\x1B[()][0-9A-Za-z]|\x1B[=>78DEM]")]
    private static partial Regex EscapeSequence();
}
