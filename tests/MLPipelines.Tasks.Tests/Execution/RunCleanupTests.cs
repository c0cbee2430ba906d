using System.Runtime.Versioning;
using MLPipelines.Engine;
using MLPipelines.Engine.Execution;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// Issue "A run never leaves a mess": whatever happens in a step, the run ends with its record closed, no step's
/// process alive, and every problem a user can act on reported with its own code.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell; the processes are looked up in /proc.
public sealed class RunCleanupTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    private TempDirectory Project => _pipeline.Project;

    [Fact]
    public async Task AnUnexpectedFailureInOneStepStopsTheOthersAndClosesTheRun()
    {
        // slow sleeps (its shell execs sleep, so slow.pid is the sleep's); boom finishes once slow sleeps, and the
        // engine then fails on it (the log throws, standing for a bug or a busy database); later waits for a slot.
        _pipeline
            .Step("slow", "echo $$ > slow.pid; exec sleep 300")
            .Step("boom", "while [ ! -s slow.pid ]; do sleep 0.05; done; echo ok > boom.txt", ("Outputs", "boom.txt"))
            .Step("later", "echo ran > later.txt");
        var log = new RecordingLog
        {
            OnMessage = message =>
            {
                if (message.StartsWith("Step boom has finished", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException("injected failure while finishing boom");
                }
            },
        };

        var run = await _pipeline.RunAsync(o => o with { MaxParallelism = 2 }, log: log);

        var pid = Processes.ReadPid(Project.Combine("slow.pid"));
        try
        {
            Assert.True(Processes.WaitUntilGone(pid), $"The sleep of step slow (pid {pid}) outlived the run.\n{run.Log}");
        }
        finally
        {
            Processes.KillIfAlive(pid);
        }

        run.AssertOutcome("boom", StepOutcome.Failed).AssertOutcome("slow", StepOutcome.Failed).AssertOutcome("later", StepOutcome.NotRun);
        var error = run.SingleError(ErrorCodes.UnexpectedFailure);
        Assert.Equal("boom", error.Step);
        Assert.Contains("Step 'boom' failed unexpectedly: InvalidOperationException: injected failure while finishing boom", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", error.Message, StringComparison.Ordinal);
        Assert.Contains(run.Log.Traces, t => t.Contains("injected failure", StringComparison.Ordinal) && t.Contains(" at ", StringComparison.Ordinal));

        var stopped = run.SingleError(ErrorCodes.StepCancelled);
        Assert.Equal("slow", stopped.Step);
        Assert.Contains("step boom failed unexpectedly", stopped.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(run.Log.Errors, e => e.Code == ErrorCodes.StepFailed);
        run.AssertMessage("Step later was not run: step boom failed unexpectedly.");
        Assert.False(Project.Exists("later.txt"));

        using var store = _pipeline.OpenStore();
        var record = Assert.Single(store.ListRuns(10));
        Assert.Equal("failed", record.Status);
        Assert.NotNull(record.EndedAt);
        Assert.DoesNotContain(store.FindRunSteps(record.Id)!, s => s.Outcome == "executed");
    }

    [Fact]
    public async Task ACacheKeyCommandWhoseWorkingDirectoryDoesNotExistIsMLP2003NamingTheFolder()
    {
        _pipeline.Step("fetch", "echo ran > ran.txt", ("WorkingDirectory", "work/here"), ("CacheKeyCommand", "echo rev1"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("fetch", StepOutcome.Failed);
        var error = run.SingleError(ErrorCodes.StepCouldNotStart);
        Assert.Equal("fetch", error.Step);
        Assert.Contains("The CacheKeyCommand of step 'fetch' could not start: its WorkingDirectory 'work/here' does not exist", error.Message, StringComparison.Ordinal);
        Assert.Single(run.Log.Errors);
        // Nothing ran, and the key command made no folder: PlanPipeline runs it too, and a dry run changes nothing.
        Assert.False(Project.Exists("work"));
    }

    [Fact]
    public async Task ACacheKeyCommandRunsWhereTheUpstreamStepMadeItsWorkingDirectory()
    {
        _pipeline
            .Step("make", "mkdir -p work && echo rev7 > work/rev.txt", ("Outputs", "work/"))
            .Step("fetch", "echo ran > ../ran.txt", ("WorkingDirectory", "work"), ("CacheKeyCommand", "cat rev.txt"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("fetch", StepOutcome.Executed).AssertNoDiagnostics();
    }

    [Theory]
    [InlineData("kill -INT $$")]
    [InlineData("sh -c 'kill -INT $$'")]
    public async Task AStepStoppedBySigintIsCancelledNotFailed(string command)
    {
        // The first: the step's shell itself gets SIGINT; the second: a child does, and the shell exits 130.
        _pipeline.Step("train", $"{command}; echo after > after.txt");

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("train", StepOutcome.Failed);
        var error = run.SingleError(ErrorCodes.StepCancelled);
        Assert.Contains("interrupted (SIGINT, exit code 130)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(run.Log.Errors, e => e.Code == ErrorCodes.StepFailed);
        Assert.False(Project.Exists("after.txt"));
        using var store = _pipeline.OpenStore();
        Assert.Null(store.FindNewestEntry(_pipeline.PipelineName, "train"));
    }
}
