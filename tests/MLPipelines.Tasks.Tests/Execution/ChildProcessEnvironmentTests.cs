using System.Runtime.Versioning;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Remote;
using MLPipelines.Engine.SourceControl;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// No process the engine starts (a step's command, a CacheKeyCommand, a VersionCommand, git) sees the remote cache's
/// credentials or signing key, set in the build's (here the test process's) environment: a step that writes its
/// environment into an output would otherwise upload them to the shared cache.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
[Collection(nameof(RemoteCacheVariablesInProcessEnvironment))]
public sealed class ChildProcessEnvironmentTests : IDisposable
{
    private static readonly string Marker = "mlp-secret-" + Guid.NewGuid().ToString("N");

    private static readonly string[] Variables =
    [
        RemoteCacheOptions.TokenVariable,
        RemoteCacheOptions.UserVariable,
        RemoteCacheOptions.PasswordVariable,
        RemoteCacheOptions.SigningKeyVariable,
        "MLPIPELINES_REMOTE_CACHE_SOMETHING_NEW",
    ];

    private readonly PipelineHarness _pipeline = new();

    public ChildProcessEnvironmentTests()
    {
        foreach (var name in Variables)
        {
            Environment.SetEnvironmentVariable(name, $"{Marker}-{name}");
        }
    }

    public void Dispose()
    {
        foreach (var name in Variables)
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        _pipeline.Dispose();
    }

    private static void AssertNoSecret(string environmentDump)
    {
        Assert.DoesNotContain(Marker, environmentDump, StringComparison.Ordinal);
        Assert.DoesNotContain(ChildProcess.RemoteCacheVariablePrefix, environmentDump, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStepsCommandDoesNotSeeTheRemoteCacheVariablesEvenWhenItsEnvironmentNamesOne()
    {
        _pipeline.Step("dump", "env > out.txt", ("Outputs", "out.txt"), ("Environment", $"{RemoteCacheOptions.TokenVariable}=declared;OTHER=kept"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("dump", StepOutcome.Executed);
        var dump = _pipeline.Project.Read("out.txt");
        Assert.Contains("OTHER=kept", dump, StringComparison.Ordinal);
        Assert.Contains("PATH=", dump, StringComparison.Ordinal); // The rest of the build's environment is still given.
        AssertNoSecret(dump);
        Assert.DoesNotContain("declared", dump, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACacheKeyCommandDoesNotSeeThem()
    {
        _pipeline.Step("keyed", "echo done > done.txt", ("Outputs", "done.txt"), ("CacheKeyCommand", "env > key-env.txt; echo key"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("keyed", StepOutcome.Executed);
        AssertNoSecret(_pipeline.Project.Read("key-env.txt"));
    }

    [Fact]
    public async Task AVersionCommandDoesNotSeeThem()
    {
        var log = new RecordingLog();

        var versions = await ToolVersions.FindAsync([new ToolDefinition("envtool", "env > tool-env.txt; echo 1.0")], _pipeline.ProjectDirectory, log, CancellationToken.None);

        Assert.Equal("1.0", versions!["envtool"]);
        AssertNoSecret(_pipeline.Project.Read("tool-env.txt"));
    }

    [Fact]
    public async Task GitDoesNotSeeThem()
    {
        var dump = _pipeline.Project.Combine("git-env.txt");
        var git = _pipeline.Project.Write("git-stand-in", $"#!/bin/sh\nenv >> '{dump}'\nexit 1\n");
        File.SetUnixFileMode(git, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        Assert.Null(await GitCommit.OfCleanCheckoutAsync(_pipeline.ProjectDirectory, git, CancellationToken.None));

        var text = File.ReadAllText(dump);
        Assert.Contains("GIT_OPTIONAL_LOCKS=0", text, StringComparison.Ordinal);
        AssertNoSecret(text);
    }
}

/// <summary>Tests that set the remote cache's variables in this process's environment run one at a time.</summary>
[CollectionDefinition(nameof(RemoteCacheVariablesInProcessEnvironment), DisableParallelization = true)]
public sealed class RemoteCacheVariablesInProcessEnvironment;
