using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// <c>PipelineTool</c> versions (issue 10 §3): each <c>VersionCommand</c> runs through the steps' shell in the project
/// folder; a failure is MLP2012 naming the tool. Then the run keys its steps by them and records them.
/// </summary>
public sealed class ToolVersionsTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    private async Task<(IReadOnlyDictionary<string, string>? Versions, RecordingLog Log)> FindAsync(params ToolDefinition[] tools)
    {
        var log = new RecordingLog();
        var versions = await ToolVersions.FindAsync(tools, _pipeline.ProjectDirectory, log, CancellationToken.None);
        return (versions, log);
    }

    [Fact]
    public async Task AVersionIsTheTrimmedOutputOfItsCommandRunInTheProjectFolder()
    {
        _pipeline.Project.Write("tool-version.txt", "  3.11.4 \n\n");

        var (versions, log) = await FindAsync(new("python", "cat tool-version.txt"), new("multi", "printf 'a 1\\n  b 2  \\n'; echo ignored >&2"));

        Assert.Empty(log.Errors);
        Assert.Equal(new Dictionary<string, string> { ["python"] = "3.11.4", ["multi"] = "a 1 b 2" }, versions);
    }

    [Fact]
    public async Task AToolThatPrintsItsVersionOnlyToStandardErrorGetsThat()
    {
        var (versions, _) = await FindAsync(new ToolDefinition("python", "echo 'Python 2.7.18' >&2"));

        Assert.Equal("Python 2.7.18", versions!["PYTHON"]);
    }

    [Theory]
    [InlineData("echo first >&2; echo out; echo broken >&2; exit 3", "failed with exit code 3.", "Its standard error ended with: first | broken")]
    [InlineData("false; echo 1.0", "failed with exit code 1.", "It wrote nothing to standard error.")]
    [InlineData("true", "printed nothing", null)]
    [InlineData("no-such-tool-mlp --version", "failed with exit code 127.", "Its standard error ended with: ")]
    public async Task AFailingVersionCommandIsMLP2012NamingTheToolAndNoVersionsAreGiven(string command, string problem, string? tail)
    {
        var (versions, log) = await FindAsync(new("good", "echo 1"), new("python", command));

        Assert.Null(versions);
        var error = Assert.Single(log.Errors);
        Assert.Equal(ErrorCodes.ToolVersionFailed, error.Code);
        Assert.Equal("python", error.Tool);
        Assert.StartsWith($"The VersionCommand of tool 'python' ('{command}') {problem}", error.Message, StringComparison.Ordinal);
        Assert.Contains("no step runs", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);

        // Said as a failed step's MLP2001 says it: the end of standard error, one line, after the advice.
        if (tail is not null)
        {
            Assert.Contains(". Fix the command, or install the tool. " + tail, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NoToolsMeansNoCommandAndNoVersions()
    {
        var (versions, log) = await FindAsync();

        Assert.Null(versions);
        Assert.Empty(log.Errors);
    }

    [Fact]
    public async Task ARunKeysItsStepsByTheToolVersionsAndRecordsThem()
    {
        _pipeline.Step("train", "echo trained > model.txt", ("Outputs", "model.txt"), ("Tools", "python"))
            .Step("copy", "echo copied > copy.txt", ("Outputs", "copy.txt"), ("Tools", "none"));
        PipelineOptions With(string python) => _pipeline.Options() with
        {
            Tools = [new("python", "python3 --version"), new("dotnet", "dotnet --version")],
            ToolVersions = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["python"] = python, ["dotnet"] = "10.0.100" },
        };

        var first = await _pipeline.RunAsync(_ => With("3.11.4"));
        var again = await _pipeline.RunAsync(_ => With("3.11.4"));
        var upgraded = await _pipeline.RunAsync(_ => With("3.12.1"));

        Assert.Equal(new Dictionary<string, string> { ["python"] = "3.11.4", ["dotnet"] = "10.0.100" }, first.Result.Tools);
        again.AssertOutcome("train", StepOutcome.Cached).AssertOutcome("copy", StepOutcome.Cached);
        upgraded.AssertOutcome("train", StepOutcome.Executed).AssertOutcome("copy", StepOutcome.Cached);
        upgraded.AssertMessage("Cache miss for train: tool python changed (3.11.4 -> 3.12.1).");
        using var store = _pipeline.OpenStore();
        Assert.Equal(
            ["dotnet=10.0.100, python=3.12.1", "dotnet=10.0.100, python=3.11.4", "dotnet=10.0.100, python=3.11.4"],
            store.ListRuns(10).Select(r => string.Join(", ", r.Tools!.Select(t => $"{t.Key}={t.Value}"))));
    }

    [Fact]
    public async Task ARunWithoutToolsRecordsNone()
    {
        _pipeline.Step("train", "echo trained > model.txt", ("Outputs", "model.txt"));

        var run = await _pipeline.RunAsync();

        Assert.Null(run.Result.Tools);
        using var store = _pipeline.OpenStore();
        Assert.Null(Assert.Single(store.ListRuns(10)).Tools);
    }
}
