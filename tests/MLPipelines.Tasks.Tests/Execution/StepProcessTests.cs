using System.Runtime.Versioning;
using MLPipelines.Engine.Execution;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Execution;

[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class StepProcessTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly List<string> _lines = [];
    private readonly Lock _lock = new();

    public void Dispose() => _directory.Dispose();

    private void Collect(string line)
    {
        lock (_lock)
        {
            _lines.Add(line);
        }
    }

    private Task<int> RunAsync(string command, IEnumerable<KeyValuePair<string, string>>? environment = null, CancellationToken cancellationToken = default) =>
        StepProcess.RunAsync(command, _directory.Path, environment ?? [], Collect, cancellationToken);

    [Theory]
    [InlineData("true", 0)]
    [InlineData("exit 3", 3)]
    [InlineData("false", 1)]
    [InlineData("no-such-command-mlp", 127)]
    public async Task TheExitCodeIsReturned(string command, int expected)
    {
        Assert.Equal(expected, await RunAsync(command));
    }

    [Fact]
    public async Task ACommandStopsAtItsFirstFailingCommand()
    {
        var exitCode = await RunAsync("echo a > a; false; echo b > b");

        Assert.Equal(1, exitCode);
        Assert.True(_directory.Exists("a"));
        Assert.False(_directory.Exists("b"));
    }

    [Fact]
    public async Task AMultiLineCommandStopsAtItsFirstFailingLineWithThatLinesExitCode()
    {
        var exitCode = await RunAsync("echo one\nexit 4\necho three > three.txt\n");

        Assert.Equal(4, exitCode);
        Assert.Equal(["one"], _lines);
        Assert.False(_directory.Exists("three.txt"));
    }

    [Fact]
    public async Task AFailureTheCommandTestsDoesNotStopIt()
    {
        // sh -e exempts conditions and all but the last command of && and || lists: the command handles those.
        var exitCode = await RunAsync("false || echo recovered\nif false; then echo no; fi\ntest -f absent && echo no\nwhile false; do :; done\necho end");

        Assert.Equal(0, exitCode);
        Assert.Equal(["recovered", "end"], _lines);
    }

    [Theory]
    [InlineData("echo a", "echo a")]
    [InlineData("echo a > a\nexit /b 1\necho b > b", "echo a > a && exit /b 1 && echo b > b")]
    [InlineData("\r\n    echo a\r\n\r\n    echo b   \r\n  ", "echo a && echo b")]
    [InlineData("REM set up\necho a\n:: done\nrem\nremove.exe x", "echo a && remove.exe x")]
    [InlineData("echo a & echo b", "echo a & echo b")]
    public void OnWindowsTheLinesAreJoinedWithAndAnd(string command, string expected)
    {
        Assert.Equal(expected, StepProcess.JoinLinesForCmd(command));
    }

    [Fact]
    public async Task TheCommandRunsInTheWorkingDirectoryWithTheEnvironment()
    {
        var exitCode = await RunAsync("printf \"$MLP_A|$MLP_B\" > env.txt", [new("MLP_A", "one"), new("MLP_B", "two words")]);

        Assert.Equal(0, exitCode);
        Assert.Equal("one|two words", _directory.Read("env.txt"));
    }

    [Fact]
    public async Task StandardInputIsAtItsEnd()
    {
        Assert.Equal(0, await RunAsync("cat; echo after-cat"));
        Assert.Equal(["after-cat"], _lines);
    }

    [Fact]
    public async Task OutputAndErrorLinesAreForwarded()
    {
        await RunAsync("echo out1; echo err1 >&2; echo out2");

        Assert.Equal(["err1", "out1", "out2"], _lines.Order(StringComparer.Ordinal));
        Assert.True(_lines.IndexOf("out1") < _lines.IndexOf("out2"));
    }

    [Fact]
    public void TheEnvironmentOfAStepHasParamVariablesAndItsPairs()
    {
        var step = new MLPipelines.Engine.Configuration.StepDefinition
        {
            Name = "s",
            Command = "run",
            Parameters = [new("Gamma", "0.002")],
            Environment = [new("MODE", "fast")],
        };

        Assert.Equal([new("PARAM_Gamma", "0.002"), new("MODE", "fast")], StepProcess.EnvironmentOf(step));
    }

    [Fact]
    public async Task CancellationKillsTheProcessTree()
    {
        using var cancel = new CancellationTokenSource();
        var marker = _directory.Combine("survived.txt");

        var run = StepProcess.RunAsync($"echo started; (sleep 30; touch '{marker}') & wait", _directory.Path, [], line =>
        {
            if (line == "started")
            {
                cancel.Cancel();
            }
        }, cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.False(File.Exists(marker));
    }

    // A grandchild that writes its own pid (exec: the pid is sleep's) and sleeps far longer than any test.
    private const string Sleeper = "sh -c 'echo $$ > bg.pid; exec sleep 300'";

    // A hang bound, not a timing assertion: a command that is held by a background process waits 300 s.
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);

    private int BackgroundPid() => Processes.ReadPid(_directory.Combine("bg.pid"));

    [Fact]
    public void OnLinuxCommandsRunInAProcessGroupOfTheirOwn()
    {
        Assert.True(!OperatingSystem.IsLinux() || StepProcess.UsesProcessGroups, "setsid was not found: the process-group tests below would prove nothing.");
    }

    [Theory]
    [InlineData("exit 0", 0)]
    [InlineData("exit 3", 3)]
    public async Task ABackgroundProcessIsKilledWhenTheShellExits(string end, int expected)
    {
        // Its output goes elsewhere, so only the process group can find it once the shell is gone.
        var exitCode = await RunAsync($"{Sleeper} > /dev/null 2>&1 &\nwhile [ ! -s bg.pid ]; do sleep 0.05; done\n{end}").WaitAsync(Hang);

        Assert.Equal(expected, exitCode);
        var pid = BackgroundPid();
        try
        {
            Assert.True(Processes.WaitUntilGone(pid), $"The background process {pid} outlived the command.");
        }
        finally
        {
            Processes.KillIfAlive(pid);
        }
    }

    [Theory]
    [InlineData("nohup " + Sleeper + " &")]
    [InlineData("(" + Sleeper + " &)")]
    public async Task ABackgroundProcessHoldingTheOutputDoesNotHoldTheCommand(string start)
    {
        var exitCode = await RunAsync($"echo before\n{start}\nwhile [ ! -s bg.pid ]; do sleep 0.05; done\necho after").WaitAsync(Hang);

        Assert.Equal(0, exitCode);
        Assert.Equal(["after", "before"], _lines.Where(l => !l.StartsWith("nohup", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        var pid = BackgroundPid();
        try
        {
            Assert.True(Processes.WaitUntilGone(pid), $"The background process {pid} outlived the command.");
        }
        finally
        {
            Processes.KillIfAlive(pid);
        }
    }

    [Fact]
    public async Task AProcessThatLeftTheGroupIsReadOnlyBrieflyAfterTheShellExits()
    {
        // setsid inside the step: a process group (and session) of its own, which the step's group kill cannot
        // reach. It keeps the output open; reading stops once OutputDrainLimit has passed after the shell's exit.
        var exitCode = await RunAsync($"echo before\nsetsid {Sleeper} &\nwhile [ ! -s bg.pid ]; do sleep 0.05; done").WaitAsync(Hang);

        var pid = BackgroundPid();
        try
        {
            Assert.Equal(0, exitCode);
            Assert.Equal(["before"], _lines);
            Assert.True(Processes.IsAlive(pid), "The test's premise: the process left the step's group and still holds its output.");
        }
        finally
        {
            Processes.KillIfAlive(pid);
        }
    }

    [Fact]
    public async Task CancellationKillsABackgroundProcessTheShellLostTrackOf()
    {
        // (cmd &) leaves a process whose parent (the subshell) is gone: no tree walk from the shell finds it.
        using var cancel = new CancellationTokenSource();
        var run = StepProcess.RunAsync($"({Sleeper} > /dev/null 2>&1 &)\nwhile [ ! -s bg.pid ]; do sleep 0.05; done\necho started\nsleep 300", _directory.Path, [], line =>
        {
            if (line == "started")
            {
                cancel.Cancel();
            }
        }, cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Hang));
        var pid = BackgroundPid();
        try
        {
            Assert.True(Processes.WaitUntilGone(pid), $"The background process {pid} outlived the cancelled command.");
        }
        finally
        {
            Processes.KillIfAlive(pid);
        }
    }
}
