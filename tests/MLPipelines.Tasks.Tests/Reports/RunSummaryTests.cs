using System.Runtime.Versioning;
using System.Text.Json;
using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Reports;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Reports;

/// <summary>
/// <c>PipelineSummaryFile</c>: the JSON summary of a run, read back with System.Text.Json as a CI tool would, after
/// real runs of the engine (executed, cached, failed and not run).
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class RunSummaryTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    private string SummaryPath => _pipeline.Project.Combine("reports/summary.json");

    private PipelineOptions WithSummary(PipelineOptions options) => options with { SummaryFile = SummaryPath };

    /// <summary>Writes the reports of <paramref name="run"/> as the task does, and parses the JSON back.</summary>
    private JsonElement Summarize(PipelineRun run, RecordingLog? log = null)
    {
        RunReports.Write(WithSummary(_pipeline.Options()), _pipeline.Graph(), run.Result, log ?? run.Log);
        using var document = JsonDocument.Parse(File.ReadAllText(SummaryPath));
        return document.RootElement.Clone();
    }

    private static JsonElement Step(JsonElement summary, string name) =>
        summary.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == name);

    private void DeclareChain(string mode = "ok")
    {
        _pipeline.Project.Write("raw.txt", "raw data");
        _pipeline.Project.Write("prep.sh", "cat raw.txt > a.txt");
        _pipeline.Project.Write("config.json", "{}");
        _pipeline.Step("a", "sh prep.sh", ("Inputs", "raw.txt"), ("Code", "prep.sh"), ("FileDependencies", "config.json"),
            ("Environment", "API_TOKEN=hunter2-secret"), ("Outputs", "a.txt"));
        _pipeline.Step("b", "test \"$PARAM_Mode\" != fail && cat a.txt > b.txt && printf b >> b.txt", ("Inputs", "a.txt"), ("Parameters", $"Mode={mode}"), ("Outputs", "b.txt"));
        _pipeline.Step("c", "cat b.txt > c.txt", ("Inputs", "b.txt"), ("IncludeArtifactIds", "true"), ("Outputs", "c.txt"));
    }

    [Fact]
    public async Task AFirstRunSaysEveryStepExecutedWithItsInputAndOutputFilesByHash()
    {
        DeclareChain();
        var run = await _pipeline.RunAsync();
        var summary = Summarize(run);

        Assert.Equal(1, summary.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(run.Result.RunId, summary.GetProperty("runId").GetString());
        Assert.Equal("p", summary.GetProperty("pipeline").GetString());
        Assert.Equal("succeeded", summary.GetProperty("status").GetString());
        var started = summary.GetProperty("startedAt").GetDateTimeOffset();
        var ended = summary.GetProperty("endedAt").GetDateTimeOffset();
        Assert.Equal(run.Result.StartedAt, started);
        Assert.Equal(run.Result.StartedAt + run.Result.Duration, ended);
        Assert.Equal((long)Math.Round(run.Result.Duration.TotalMilliseconds), summary.GetProperty("durationMs").GetInt64());
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("gitCommit").ValueKind); // Not a git repository.
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("tools").ValueKind);

        var totals = summary.GetProperty("totals");
        Assert.Equal((3, 0, 3, 0, 0, 0, 0, 0L),
            (totals.GetProperty("steps").GetInt32(), totals.GetProperty("cached").GetInt32(), totals.GetProperty("executed").GetInt32(),
             totals.GetProperty("failed").GetInt32(), totals.GetProperty("notRun").GetInt32(), totals.GetProperty("remoteHits").GetInt32(),
             totals.GetProperty("remoteUploads").GetInt32(), totals.GetProperty("savedMs").GetInt64()));

        Assert.Equal(["a", "b", "c"], summary.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        var a = Step(summary, "a");
        Assert.Equal("executed", a.GetProperty("outcome").GetString());
        Assert.Equal("no earlier result", a.GetProperty("reason").GetString());
        Assert.Equal(run["a"].Key, a.GetProperty("key").GetString());
        Assert.Equal(0, a.GetProperty("savedMs").GetInt64());
        Assert.Equal(JsonValueKind.Null, a.GetProperty("cacheSource").ValueKind);
        Assert.Empty(a.GetProperty("dependsOn").EnumerateArray());
        var inputs = a.GetProperty("inputs").EnumerateArray()
            .Select(i => (i.GetProperty("kind").GetString(), i.GetProperty("path").GetString(), i.GetProperty("hash").GetString())).ToList();
        Assert.Equal(
            [("code", "prep.sh", ContentHash.OfFile(_pipeline.Project.Combine("prep.sh"))),
             ("fileDependency", "config.json", ContentHash.OfFile(_pipeline.Project.Combine("config.json"))),
             ("input", "raw.txt", ContentHash.OfFile(_pipeline.Project.Combine("raw.txt")))],
            inputs);
        var output = Assert.Single(a.GetProperty("outputs").EnumerateArray());
        Assert.Equal("a.txt", output.GetProperty("path").GetString());
        Assert.Equal(ContentHash.OfFile(_pipeline.Project.Combine("a.txt")), output.GetProperty("hash").GetString());
        Assert.Equal(8, output.GetProperty("size").GetInt64());

        // Edges come from the graph: declared and inferred (b reads a's output).
        Assert.Equal(["a"], Step(summary, "b").GetProperty("dependsOn").EnumerateArray().Select(d => d.GetString()));
        // IncludeArtifactIds: the file's identity, named apart from a content hash.
        var c = Step(summary, "c").GetProperty("inputs").EnumerateArray().ToList();
        Assert.Equal(["input:b.txt", "inputIdentity:b.txt"], c.Select(i => $"{i.GetProperty("kind").GetString()}:{i.GetProperty("path").GetString()}"));

        // A step's Environment is a secret: neither its value nor its keyed hash is in the summary.
        var text = File.ReadAllText(SummaryPath);
        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("API_TOKEN", text, StringComparison.Ordinal);
        Assert.DoesNotContain(run["a"].Components!.Single(k => k.Kind == "env").Hash, text, StringComparison.Ordinal);
        run.AssertMessage($"Summary of run {run.Result.RunId} written to {SummaryPath}.");
    }

    [Fact]
    public async Task ASecondRunSaysEveryStepHitLocallyAndTheTimeItSaved()
    {
        DeclareChain();
        var first = Summarize(await _pipeline.RunAsync());
        var run = await _pipeline.RunAsync();
        var summary = Summarize(run);

        Assert.NotEqual(first.GetProperty("runId").GetString(), summary.GetProperty("runId").GetString());
        var totals = summary.GetProperty("totals");
        Assert.Equal((3, 3, 0), (totals.GetProperty("steps").GetInt32(), totals.GetProperty("cached").GetInt32(), totals.GetProperty("executed").GetInt32()));
        using var store = _pipeline.OpenStore();
        long savedTotal = 0;
        foreach (var name in new[] { "a", "b", "c" })
        {
            var step = Step(summary, name);
            Assert.Equal("cached", step.GetProperty("outcome").GetString());
            Assert.Equal(JsonValueKind.Null, step.GetProperty("reason").ValueKind);
            Assert.Equal("local", step.GetProperty("cacheSource").GetString());
            // A hit saves what the producing run spent executing the step, as the store recorded it.
            var entry = store.FindEntry(step.GetProperty("key").GetString()!)!;
            Assert.True(entry.Duration > TimeSpan.Zero);
            Assert.Equal((long)Math.Round(entry.Duration.TotalMilliseconds), step.GetProperty("savedMs").GetInt64());
            savedTotal += step.GetProperty("savedMs").GetInt64();
            // Restored outputs are the entry's, the same files the first run stored.
            Assert.Equal(Step(first, name).GetProperty("outputs").ToString(), step.GetProperty("outputs").ToString());
            Assert.Equal(Step(first, name).GetProperty("inputs").ToString(), step.GetProperty("inputs").ToString());
        }

        Assert.Equal(savedTotal, totals.GetProperty("savedMs").GetInt64());
    }

    [Fact]
    public async Task AFailedRunIsSummarisedWithTheFailedStepAndWhatDidNotRun()
    {
        DeclareChain();
        await _pipeline.RunAsync();
        DeclareChain(mode: "fail");
        var run = await _pipeline.RunAsync();
        run.AssertOutcome("b", StepOutcome.Failed).AssertOutcome("c", StepOutcome.NotRun);
        var summary = Summarize(run);

        Assert.Equal("failed", summary.GetProperty("status").GetString());
        var totals = summary.GetProperty("totals");
        Assert.Equal((3, 1, 0, 1, 1), (totals.GetProperty("steps").GetInt32(), totals.GetProperty("cached").GetInt32(),
            totals.GetProperty("executed").GetInt32(), totals.GetProperty("failed").GetInt32(), totals.GetProperty("notRun").GetInt32()));
        var b = Step(summary, "b");
        Assert.Equal("failed", b.GetProperty("outcome").GetString());
        Assert.Equal("exit code 1", b.GetProperty("reason").GetString());
        Assert.Equal(run["b"].Key, b.GetProperty("key").GetString());
        Assert.Equal(JsonValueKind.Array, b.GetProperty("inputs").ValueKind); // Its key was computed.
        Assert.Equal(JsonValueKind.Null, b.GetProperty("outputs").ValueKind); // A failed step stores nothing.
        var c = Step(summary, "c");
        Assert.Equal("notrun", c.GetProperty("outcome").GetString());
        Assert.Equal("needs b, which failed", c.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, c.GetProperty("key").ValueKind);
        Assert.Equal(JsonValueKind.Null, c.GetProperty("inputs").ValueKind);
        Assert.Equal(JsonValueKind.Null, c.GetProperty("outputs").ValueKind);
    }

    [Fact]
    public async Task ARunThatCouldNotStartIsSummarisedAsFailed()
    {
        DeclareChain();
        var run = await _pipeline.RunAsync(o => o with { ResumeFrom = new ResumePoint("b", "no-such-run") });
        run.SingleError(ErrorCodes.UnknownRun);
        var summary = Summarize(run);

        Assert.Equal("failed", summary.GetProperty("status").GetString());
        Assert.Empty(summary.GetProperty("steps").EnumerateArray());
    }

    [Fact]
    public void RemoteHitsUploadsAndToolVersionsAreCounted()
    {
        _pipeline.Step("a", "true", ("Outputs", "a.txt"));
        _pipeline.Step("b", "true", ("DependsOn", "a"));
        var result = new PipelineRunResult("r1", [
            new StepResult("a", StepOutcome.Cached, "k1", TimeSpan.FromMilliseconds(5), null) { Remote = true, Saved = TimeSpan.FromSeconds(3) },
            new StepResult("b", StepOutcome.Cached, "k2", TimeSpan.FromMilliseconds(2), null) { Saved = TimeSpan.FromSeconds(1.5) },
        ], TimeSpan.FromSeconds(1))
        {
            RemoteUploads = 2,
            Tools = new Dictionary<string, string> { ["python"] = "3.12.1", ["dotnet"] = "10.0.100" },
            GitCommit = "0123456789abcdef0123456789abcdef01234567",
        };

        var summary = Summarize(new PipelineRun(result, new RecordingLog(), 0));

        var totals = summary.GetProperty("totals");
        Assert.Equal((1, 2, 4500L), (totals.GetProperty("remoteHits").GetInt32(), totals.GetProperty("remoteUploads").GetInt32(), totals.GetProperty("savedMs").GetInt64()));
        Assert.Equal("remote", Step(summary, "a").GetProperty("cacheSource").GetString());
        Assert.Equal("local", Step(summary, "b").GetProperty("cacheSource").GetString());
        Assert.Equal(["dotnet:10.0.100", "python:3.12.1"], summary.GetProperty("tools").EnumerateObject().Select(t => $"{t.Name}:{t.Value.GetString()}"));
        Assert.Equal("0123456789abcdef0123456789abcdef01234567", summary.GetProperty("gitCommit").GetString());
    }

    [Fact]
    public async Task TheSummaryReplacesThePreviousOneWholeAndLeavesNoTempFile()
    {
        DeclareChain();
        _pipeline.Project.Write("reports/summary.json", new string('x', 100_000));
        var summary = Summarize(await _pipeline.RunAsync());

        Assert.Equal(1, summary.GetProperty("schemaVersion").GetInt32()); // Parsed whole: nothing of the old file is left.
        Assert.Equal(["summary.json"], Directory.GetFiles(_pipeline.Project.Combine("reports")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task ASummaryThatCannotBeWrittenIsAWarningAndTheRunStands()
    {
        DeclareChain();
        var run = await _pipeline.RunAsync();
        _pipeline.Project.Write("blocker", "a file where a folder should be");
        var log = new RecordingLog();

        RunReports.Write(_pipeline.Options() with
        {
            SummaryFile = _pipeline.Project.Combine("blocker/summary.json"),
            GitHubStepSummary = _pipeline.Project.Combine("missing/folder/summary.md"),
        }, _pipeline.Graph(), run.Result, log);
        RunReports.Write(_pipeline.Options() with { SummaryFile = "bad\0path.json" }, _pipeline.Graph(), run.Result, log);

        Assert.Empty(log.Errors);
        Assert.Equal(3, log.Warnings.Count(w => w.Code == ErrorCodes.ReportNotWritten));
        Assert.Contains(log.Warnings, w => w.Message.StartsWith($"The run summary (PipelineSummaryFile) could not be written to '{_pipeline.Project.Combine("blocker/summary.json")}'", StringComparison.Ordinal));
        Assert.Contains(log.Warnings, w => w.Message.StartsWith("The GitHub step summary (GITHUB_STEP_SUMMARY) could not be written", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithNoReportAskedForNothingIsWritten()
    {
        DeclareChain();
        var run = await _pipeline.RunAsync();
        var before = Directory.GetFileSystemEntries(_pipeline.ProjectDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

        RunReports.Write(_pipeline.Options(), _pipeline.Graph(), run.Result, run.Log);

        Assert.Equal(before, Directory.GetFileSystemEntries(_pipeline.ProjectDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
    }
}
