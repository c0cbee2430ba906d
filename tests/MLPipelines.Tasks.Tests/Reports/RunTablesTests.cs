using MLPipelines.Engine.Reports;
using MLPipelines.Engine.Store;

namespace MLPipelines.Tasks.Tests.Reports;

/// <summary>Issue 11, items 9 and 10: the run detail, the value columns and the comparison of two runs, as text.</summary>
public sealed class RunTablesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 14, 0, 0, TimeSpan.Zero);

    private static RunRecord Run(string id, int minutes) =>
        new(id, "iris", T0.AddMinutes(minutes), "succeeded", null) { EndedAt = T0.AddMinutes(minutes).AddSeconds(5), StepsTotal = 3, StepsCached = 2, StepsExecuted = 1, StepsCacheable = 2 };

    private static StepRunRecord Step(string name, string outcome, Dictionary<string, string>? parameters = null, Dictionary<string, double>? metrics = null, string? reason = null) =>
        new(name, "k-" + name, null, outcome, reason, T0, TimeSpan.FromSeconds(1.5)) { Parameters = parameters, Metrics = metrics, Saved = TimeSpan.FromSeconds(2) };

    [Fact]
    public void ValuesAreNamedStepDotNameParametersFirst()
    {
        var values = RunTables.ValuesOf([
            Step("train", "executed", new() { ["Seed"] = "42", ["Gamma"] = "0.002" }),
            Step("evaluate", "executed", new(), new() { ["accuracy"] = 0.9667 }),
        ]);

        Assert.Equal(["train.Gamma", "train.Seed", "evaluate.accuracy"], values.Select(v => v.Name));
        Assert.Equal([RunValueKind.Parameter, RunValueKind.Parameter, RunValueKind.Metric], values.Select(v => v.Kind));
        Assert.Equal([0.002, 42, 0.9667], values.Select(v => v.Number));
    }

    [Fact]
    public void ColumnsAreOnlyThoseSomeRunRecorded()
    {
        var newer = RunTables.ValuesOf([Step("train", "executed", new() { ["Gamma"] = "0.1" }), Step("notify", "executed")]);
        var older = RunTables.ValuesOf([Step("train", "executed", new() { ["Gamma"] = "0.2", ["Old"] = "x" }, new() { ["loss"] = 1 })]);

        var columns = RunTables.Columns([newer, older]);

        Assert.Equal(["train.Gamma", "train.Old", "train.loss"], columns.Select(c => c.Name));
        Assert.Equal("-", RunTables.Cell(newer, "train.Old", RunValueKind.Parameter));
        Assert.Equal("0.2", RunTables.Cell(older, "train.Gamma", RunValueKind.Parameter));
    }

    [Fact]
    public void TheComparisonListsChangedAddedAndRemovedValuesWithTheChangeOfNumbers()
    {
        var older = Run("20261130-140000-aaaaaa", 0);
        var newer = Run("20261130-141000-bbbbbb", 10);

        var lines = RunTables.Compare(
            older, [Step("train", "executed", new() { ["Gamma"] = "0.002", ["Kernel"] = "rbf", ["Seed"] = "42", ["Gone"] = "1" }), Step("evaluate", "executed", new(), new() { ["accuracy"] = 0.9667, ["rows"] = 30 })],
            newer, [Step("train", "executed", new() { ["Gamma"] = "0.0001", ["Kernel"] = "linear", ["Seed"] = "42" }), Step("evaluate", "cached", new(), new() { ["accuracy"] = 0.9333, ["rows"] = 30, ["f1"] = 0.9 })]);

        Assert.Equal(
        [
            "Changes of pipeline iris from run 20261130-140000-aaaaaa (2026-11-30 14:00:00 UTC, succeeded) to run 20261130-141000-bbbbbb (2026-11-30 14:10:00 UTC, succeeded):",
            "NAME               KIND       OLD     NEW     CHANGE",
            "train.Gamma        parameter  0.002   0.0001  -0.0019",
            "train.Kernel       parameter  rbf     linear  -",
            "train.Gone         parameter  1       -       -",
            "evaluate.accuracy  metric     0.9667  0.9333  -0.0334",
            "evaluate.f1        metric     -       0.9     -",
            "5 changed, 2 unchanged.",
        ], lines);
    }

    [Fact]
    public void AnIncreaseIsSignedAndNothingChangedSaysSo()
    {
        var steps = new[] { Step("train", "executed", new() { ["Gamma"] = "1" }) };
        Assert.Contains("train.Gamma  parameter  1    2.5  +1.5",
            RunTables.Compare(Run("a", 0), steps, Run("b", 1), [Step("train", "executed", new() { ["Gamma"] = "2.5" })]));

        var same = RunTables.Compare(Run("a", 0), steps, Run("b", 1), steps);
        Assert.Equal("No parameter or metric changed (1 unchanged).", same[^1]);
        Assert.Equal("Neither run recorded a parameter or metric.", RunTables.Compare(Run("a", 0), [], Run("b", 1), [])[^1]);
    }

    [Fact]
    public void TheDetailShowsEveryStepWithOutcomeDurationSavedKeyParametersMetricsAndReason()
    {
        var lines = RunTables.Detail(Run("20261130-140000-aaaaaa", 0),
        [
            Step("train", "executed", new() { ["Gamma"] = "0.002", ["Seed"] = "42" }, reason: "parameter Gamma changed (0.1 -> 0.002)"),
            Step("evaluate", "cached", new(), new() { ["accuracy"] = 0.9667 }),
            new("notify", null, null, "notrun", "upstream step train did not succeed", T0, TimeSpan.Zero),
        ]);

        Assert.Equal(
            "Run 20261130-140000-aaaaaa of pipeline iris: succeeded, started 2026-11-30 14:00:00 UTC, 5.0s; 3 steps, 2 cached, 1 executed, 0 failed, hit rate 100% of 2 cacheable steps, 0.0s saved by hits; commit none.",
            lines[0]);
        Assert.Equal(
        [
            "STEP      OUTCOME   DURATION  SAVED  KEY         PARAMETERS            METRICS          REASON",
            "train     executed  1.5s      2.0s   k-train     Gamma=0.002; Seed=42  -                parameter Gamma changed (0.1 -> 0.002)",
            "evaluate  cached    1.5s      2.0s   k-evaluate  -                     accuracy=0.9667  -",
            "notify    notrun    0.0s      0.0s   -           -                     -                upstream step train did not succeed",
        ], lines.Skip(1));
    }

    [Fact]
    public void TheDetailOfAFailedRunCountsTheStepsItDidNotRun()
    {
        var failed = Run("20261130-150000-bbbbbb", 0) with { Status = "failed", StepsTotal = 4, StepsCached = 2, StepsExecuted = 0, StepsFailed = 1 };

        var title = RunTables.Detail(failed, [])[0];

        Assert.Contains("; 4 steps, 2 cached, 0 executed, 1 failed, 1 not run, ", title, StringComparison.Ordinal);
    }
}
