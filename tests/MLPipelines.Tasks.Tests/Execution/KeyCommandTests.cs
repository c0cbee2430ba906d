using MLPipelines.Engine;
using MLPipelines.Engine.Execution;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>A <c>CacheKeyCommand</c> that cannot even start is MLP2003 (could not start) naming the step, never an unexpected failure.</summary>
public sealed class KeyCommandTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public async Task AKeyCommandTooLongForTheOperatingSystemIsMLP2003AndTheStepDoesNotRun()
    {
        // Linux limits one argument to 128 KiB (MAX_ARG_STRLEN): starting the shell fails with E2BIG.
        _pipeline.Step("fetch", "echo ran > ran.txt", ("CacheKeyCommand", "echo " + new string('k', 200_000)));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("fetch", StepOutcome.Failed);
        var error = run.SingleError(ErrorCodes.StepCouldNotStart);
        Assert.StartsWith("The CacheKeyCommand of step 'fetch' could not start: ", error.Message, StringComparison.Ordinal);
        Assert.False(_pipeline.Project.Exists("ran.txt"));
    }

    [Theory]
    [InlineData("echo why >&2; echo out; echo 'really why' >&2; exit 4", "4", " Its standard error ended with: why | really why")]
    [InlineData("exit 2", "2", " It wrote nothing to standard error.")]
    [InlineData("no-such-key-tool-mlp", "127", " Its standard error ended with: ")]
    public async Task AFailingKeyCommandIsMLP2006WithItsExitCodeAndTheEndOfItsStandardErrorOnOneLine(string command, string exitCode, string tail)
    {
        _pipeline.Step("fetch", "echo ran > ran.txt", ("CacheKeyCommand", command));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("fetch", StepOutcome.Failed);
        var error = run.SingleError(ErrorCodes.CacheKeyCommandFailed);
        Assert.Equal("fetch", error.Step);
        Assert.StartsWith($"The CacheKeyCommand of step 'fetch' failed with exit code {exitCode}, ", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{command}'." + tail, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.False(_pipeline.Project.Exists("ran.txt"));
    }
}
