using System.Text.Json;
using MLPipelines.Sdk.EndToEnd.Core;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>
/// Issue 11, items 6, 9 and 10 through the packed SDK: the hit rate counts only cacheable steps everywhere it is
/// shown; ListPipelineRuns shows one run in detail (<c>-p:PipelineRun</c>), the parameters and metrics of runs as
/// columns, and what changed between two runs (<c>-p:PipelineCompare</c>).
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class RunValuesTests(SdkPackage package, ITestOutputHelper output)
{
    private const string SummaryFile = "summary.json";

    [Fact]
    public void ACacheDisabledStepCountsInNoHitRateNotInTheSummaryLineTheJsonSummaryOrListPipelineRuns()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("load", "printf 1 > data.txt", outputs: "data.txt")
            .Step("train", "cat data.txt > model.txt", inputs: "data.txt", outputs: "model.txt")
            .Step("notify", "echo notified", dependsOn: "train", metadata: [new("EnableCache", "false")])
            .Save(workspace);
        string summary = DotnetRunner.Property("PipelineSummaryFile", SummaryFile);
        workspace.RunPipeline(summary).EnsureSucceeded();

        BuildResult second = workspace.RunPipeline(summary).EnsureSucceeded();

        second.EnsureHit("load").EnsureHit("train").EnsureMiss("notify", "cache disabled");
        Assert.Equal("Pipeline pipeline: 3 steps, 2 cached, 1 executed, hit rate 100% of 2 cacheable steps", second.Summary());
        using (JsonDocument json = JsonDocument.Parse(workspace.ReadFile(SummaryFile)))
        {
            JsonElement totals = json.RootElement.GetProperty("totals");
            Assert.Equal((3, 2, 2, 100), (totals.GetProperty("steps").GetInt32(), totals.GetProperty("cached").GetInt32(),
                totals.GetProperty("cacheable").GetInt32(), totals.GetProperty("hitRatePercent").GetInt32()));
        }

        // The store recorded the count, so ListPipelineRuns gives the same number, not 67%.
        IReadOnlyList<ListedRun> rows = workspace.ListRuns().EnsureSucceeded().ListedRuns();
        Assert.Equal(["100%", "0%"], rows.Select(r => r.HitRate));

        // With the cache off for every step there is no hit rate to give.
        BuildResult off = workspace.RunPipeline(DotnetRunner.Property("EnablePipelineCache", "false"), summary).EnsureSucceeded();
        Assert.Equal("Pipeline pipeline: 3 steps, 0 cached, 3 executed, no cacheable steps", off.Summary());
        using (JsonDocument json = JsonDocument.Parse(workspace.ReadFile(SummaryFile)))
        {
            Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("totals").GetProperty("hitRatePercent").ValueKind);
        }

        Assert.Equal("-", workspace.ListRuns().EnsureSucceeded().ListedRuns()[0].HitRate);
    }

    [Fact]
    public void ParametersAndMetricsAreColumnsOfListPipelineRunsAndPipelineCompareShowsWhatChanged()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveTrainAndEvaluate(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        string first = store.LatestRun().Id;
        BuildResult changed = workspace.RunPipeline(DotnetRunner.Property("Gamma", "0.0001")).EnsureSucceeded();
        changed.EnsureMiss("train", "parameter Gamma changed (0.002 -> 0.0001)");
        string second = store.LatestRun().Id;
        // A hit records the metrics of the file it restored: this run has them too.
        workspace.RunPipeline(DotnetRunner.Property("Gamma", "0.0001")).EnsureSucceeded().EnsureHit("evaluate");
        string third = store.LatestRun().Id;

        IReadOnlyList<ListedRun> rows = workspace.ListRuns().EnsureSucceeded().ListedRuns();

        Assert.Equal([third, second, first], rows.Select(r => r.Id));
        // Only columns with values: notify has no parameter or metric, so no column of its own.
        Assert.Equal(["train.Gamma", "train.Seed", "evaluate.accuracy"], rows[0].Values.Keys);
        Assert.Equal(["0.0001", "0.0001", "0.002"], rows.Select(r => r.Values["train.Gamma"]));
        Assert.Equal(["42", "42", "42"], rows.Select(r => r.Values["train.Seed"]));
        Assert.Equal(["0.9333", "0.9333", "0.9667"], rows.Select(r => r.Values["evaluate.accuracy"]));

        // `,` must be quoted on MSBuild's command line (-p: splits at it), as a user writes -p:PipelineCompare='"a,b"'.
        BuildResult compare = workspace.ListRuns(DotnetRunner.Property("PipelineCompare", $"\"{first},{second}\"")).EnsureSucceeded();
        string[] expected =
        [
            "NAME               KIND       OLD     NEW     CHANGE",
            "train.Gamma        parameter  0.002   0.0001  -0.0019",
            "evaluate.accuracy  metric     0.9667  0.9333  -0.0334",
            "2 changed, 1 unchanged.",
        ];
        int title = compare.IndexOfLine(compare.Lines.Select(l => l.Trim()).Single(l => l.StartsWith($"Changes of pipeline pipeline from run {first} (", StringComparison.Ordinal)));
        Assert.Equal(expected, compare.Lines.Skip(title + 1).Take(4).Select(l => l.Trim()));

        // One run alone is compared with the run before it; in the other order (written as git writes a range, which
        // needs no quotes on the command line) the signs turn.
        BuildResult single = workspace.ListRuns(DotnetRunner.Property("PipelineCompare", second)).EnsureSucceeded();
        Assert.Single(single.LinesContaining($"from run {first} ("));
        single.EnsureLine("train.Gamma        parameter  0.002   0.0001  -0.0019");
        BuildResult reversed = workspace.ListRuns(DotnetRunner.Property("PipelineCompare", $"{second}..{first}")).EnsureSucceeded();
        reversed.EnsureLine("evaluate.accuracy  metric     0.9333  0.9667  +0.0334");
        workspace.ListRuns(DotnetRunner.Property("PipelineCompare", third)).EnsureSucceeded().EnsureLine("No parameter or metric changed (3 unchanged).");

        // Mistakes are errors that say what to do.
        BuildResult unknown = workspace.ListRuns(DotnetRunner.Property("PipelineCompare", $"{first}..20991231-000000-abcdef")).EnsureFailed();
        Assert.Contains(unknown.Errors, e => e.Code == "MLP1017" && e.Message.Contains("20991231-000000-abcdef", StringComparison.Ordinal) && e.Message.Contains("ListPipelineRuns", StringComparison.Ordinal));
        BuildResult oldest = workspace.ListRuns(DotnetRunner.Property("PipelineCompare", first)).EnsureFailed();
        Assert.Contains(oldest.Errors, e => e.Code == "MLP1041" && e.Message.Contains(first, StringComparison.Ordinal));
        BuildResult three = workspace.ListRuns(DotnetRunner.Property("PipelineCompare", $"{first}..{second}..{third}")).EnsureFailed();
        Assert.Contains(three.Errors, e => e.Code == "MLP1014" && e.Message.Contains("PipelineCompare", StringComparison.Ordinal));
        three.EnsureNoStackTrace();
    }

    [Fact]
    public void PipelineRunShowsEveryStepOfOneRunWithItsReasonKeyTimeSavedParametersAndMetrics()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveTrainAndEvaluate(workspace);
        var store = StoreInspector.Of(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        workspace.RunPipeline(DotnetRunner.Property("Gamma", "0.0001")).EnsureSucceeded();
        string runId = store.LatestRun().Id;
        IReadOnlyDictionary<string, StepRunRow> recorded = store.StepRuns(runId);

        BuildResult detail = workspace.ListRuns(DotnetRunner.Property("PipelineRun", runId)).EnsureSucceeded();

        Assert.Single(detail.LinesContaining($"Run {runId} of pipeline pipeline: succeeded, started "));
        Assert.Single(detail.LinesContaining("; 3 steps, 0 cached, 3 executed, 0 failed, hit rate 0% of 2 cacheable steps,"));
        string header = Assert.Single(detail.LinesContaining("STEP  ")).Trim();
        Assert.Matches(@"^STEP\s+OUTCOME\s+DURATION\s+SAVED\s+KEY\s+PARAMETERS\s+METRICS\s+REASON$", header);
        string train = Assert.Single(detail.Lines.Select(l => l.Trim()), l => l.StartsWith("train ", StringComparison.Ordinal));
        Assert.Matches($@"^train\s+executed\s+\d+\.\ds\s+0\.0s\s+{recorded["train"].Key}\s+Gamma=0\.0001; Seed=42\s+-\s+parameter Gamma changed \(0\.002 -> 0\.0001\)$", train);
        string evaluate = Assert.Single(detail.Lines.Select(l => l.Trim()), l => l.StartsWith("evaluate ", StringComparison.Ordinal));
        Assert.Matches($@"^evaluate\s+executed\s+\d+\.\ds\s+0\.0s\s+{recorded["evaluate"].Key}\s+-\s+accuracy=0\.9333\s+input model\.txt changed$", evaluate);
        string notify = Assert.Single(detail.Lines.Select(l => l.Trim()), l => l.StartsWith("notify ", StringComparison.Ordinal));
        Assert.Matches(@"^notify\s+executed\s+.*\s+cache disabled$", notify);
        // The detail replaces the list.
        Assert.Empty(detail.LinesContaining("Runs of pipeline"));

        BuildResult unknown = workspace.ListRuns(DotnetRunner.Property("PipelineRun", "20991231-000000-abcdef")).EnsureFailed();
        BuildMessage error = Assert.Single(unknown.Errors);
        Assert.Equal("MLP1017", error.Code);
        Assert.Contains("PipelineRun names run '20991231-000000-abcdef'", error.Message, StringComparison.Ordinal);
        Assert.Contains("-t:ListPipelineRuns", error.Message, StringComparison.Ordinal);
        unknown.EnsureNoStackTrace();
    }

    [Fact]
    public void AMetricsFileThatIsNotAFlatObjectOfNumbersIsAWarningAndItsNumbersAreStillRecorded()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("evaluate", "mkdir -p eval && printf '{\"accuracy\": 0.9, \"kernel\": \"rbf\"}' > eval/metrics.json",
                outputs: "eval/", metadata: [new("Metrics", "eval/metrics.json")])
            .Save(workspace);

        BuildResult run = workspace.RunPipeline().EnsureSucceeded();

        BuildMessage warning = Assert.Single(run.Warnings);
        Assert.Equal("MLP2020", warning.Code);
        Assert.Contains("Metrics file 'eval/metrics.json' of step 'evaluate'", warning.Message, StringComparison.Ordinal);
        Assert.Contains("'kernel'", warning.Message, StringComparison.Ordinal);
        Assert.Equal("0.9", Assert.Single(workspace.ListRuns().EnsureSucceeded().ListedRuns()).Values["evaluate.accuracy"]);
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("evaluate");
    }

    /// <summary>
    /// train (parameters Gamma and Seed) and evaluate (its accuracy as a metric: 0.9667 for the default Gamma, else
    /// 0.9333), then notify (cache off, no values).
    /// </summary>
    private void SaveTrainAndEvaluate(Workspace workspace) =>
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "0.002")
            .Step("train", "printf \"$PARAM_Gamma\" > model.txt", outputs: "model.txt", parameters: "Gamma=$(Gamma);Seed=42")
            .Step("evaluate",
                "mkdir -p eval && if [ \"`cat model.txt`\" = 0.002 ]; then a=0.9667; else a=0.9333; fi && printf '{\"accuracy\": %s}' $a > eval/metrics.json",
                inputs: "model.txt", outputs: "eval/", metadata: [new("Metrics", "eval/metrics.json")])
            .Step("notify", "echo notified", dependsOn: "evaluate", metadata: [new("EnableCache", "false")])
            .Save(workspace);
}
