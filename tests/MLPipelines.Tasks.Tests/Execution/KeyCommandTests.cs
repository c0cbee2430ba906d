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
}
