using System.Text.Json;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// Issue 11, item 11, through the packed SDK: after a failure no new step starts (a would-be hit included) unless
/// <c>-p:PipelineContinueOnError=true</c>; the build fails either way; the log's summary, the JSON summary and the run
/// record say what did not run and why; MLP2001 carries the end of the step's standard error, even at <c>-v:q</c>.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class FailFastTests(SdkPackage package, ITestOutputHelper output)
{
    private const string Stopped = "stopped after bad failed; set PipelineContinueOnError=true to keep going";

    // One step at a time, in declaration order: bad runs first, and hit would start right after it.
    private void Save(Workspace workspace) =>
        PipelineProject.Create(package.Version)
            .PropertyDefault("Mode", "ok")
            .Property("PipelineMaxParallelism", "1")
            .Step("bad", "echo 'loading' && test \"$PARAM_Mode\" != fail || { echo 'ValueError: gamma must be positive' >&2; exit 2; }", parameters: "Mode=$(Mode)")
            .Step("hit", "printf hit > hit.txt", outputs: "hit.txt")
            .Step("after", "cat hit.txt > after.txt", inputs: "hit.txt", outputs: "after.txt")
            .Save(workspace);

    [Fact]
    public void AFailureStopsTheRunUnlessContinueOnErrorAndTheSummaryListsWhatDidNotRun()
    {
        using Workspace workspace = Workspace.Create(package, output);
        Save(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        workspace.Delete("hit.txt");
        string fail = DotnetRunner.Property("Mode", "fail");

        // Fail fast (the default): hit is not even restored.
        BuildResult stopped = workspace.RunPipeline(fail, DotnetRunner.Property("PipelineSummaryFile", "summary.json")).EnsureFailed();

        BuildMessage error = Assert.Single(stopped.Errors);
        Assert.Equal("MLP2001", error.Code);
        Assert.Contains("ValueError: gamma must be positive", error.Message, StringComparison.Ordinal);
        stopped.EnsureLine($"Step hit was not run: {Stopped}.");
        stopped.EnsureLine($"not run: hit ({Stopped})");
        stopped.EnsureLine("not run: after (needs hit, which did not run)");
        Assert.Equal("Pipeline pipeline: 3 steps, 0 cached, 0 executed, 1 failed, 2 not run, hit rate 0%", stopped.Summary());
        Assert.False(workspace.FileExists("hit.txt"), stopped.ToString());
        IReadOnlyDictionary<string, StepRunRow> recorded = store.StepRuns(store.LatestRun().Id);
        Assert.Equal(("notrun", Stopped), (recorded["hit"].Outcome, recorded["hit"].Reason));
        using (JsonDocument summary = JsonDocument.Parse(workspace.ReadFile("summary.json")))
        {
            JsonElement hit = summary.RootElement.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "hit");
            Assert.Equal(("notrun", Stopped), (hit.GetProperty("outcome").GetString(), hit.GetProperty("reason").GetString()));
            Assert.Equal(2, summary.RootElement.GetProperty("totals").GetProperty("notRun").GetInt32());
        }

        // -v:q shows only errors: the stderr tail is in the error itself.
        BuildResult quiet = new DotnetRunner(workspace) { Verbosity = "q" }.RunPipeline(fail).EnsureFailed();
        Assert.Contains("ValueError: gamma must be positive", quiet.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("loading", quiet.Output, StringComparison.Ordinal);

        // Keep going: the independent step and what needs it are restored; the build still fails.
        BuildResult kept = workspace.RunPipeline(fail, DotnetRunner.Property("PipelineContinueOnError", "true")).EnsureFailed();

        Assert.Equal("MLP2001", Assert.Single(kept.Errors).Code);
        kept.EnsureHit("hit").EnsureHit("after");
        Assert.Equal("hit", workspace.ReadFile("hit.txt"));
        Assert.Equal("Pipeline pipeline: 3 steps, 2 cached, 0 executed, 1 failed, hit rate 67%", kept.Summary());
    }

    [Fact]
    public void AnInvalidContinueOnErrorOrReplayLogsIsMLP1014AndNothingRuns()
    {
        using Workspace workspace = Workspace.Create(package, output);
        Save(workspace);

        foreach (string property in new[] { "PipelineContinueOnError", "PipelineReplayLogs" })
        {
            BuildResult result = workspace.RunPipeline(DotnetRunner.Property(property, "maybe")).EnsureFailed();

            BuildMessage error = Assert.Single(result.Errors);
            Assert.Equal("MLP1014", error.Code);
            Assert.Contains($"{property}='maybe'", error.Message, StringComparison.Ordinal);
            Assert.False(result.Contains("has started"), result.ToString());
        }
    }
}
