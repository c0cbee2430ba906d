using System.Runtime.Versioning;
using MLPipelines.Engine;
using MLPipelines.Engine.Execution;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// Issue 11, item 10: every run records each step's parameters and metrics (<c>step_runs.parameters</c>,
/// <c>step_runs.metrics</c>); a hit's metrics are those of the file it restored.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class RunValuesRecordTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    private PipelineHarness Declare(string gamma) => _pipeline
        .Step("train", "printf \"$PARAM_Gamma\" > model.txt", ("Parameters", $"Gamma={gamma};Seed=42"), ("Outputs", "model.txt"))
        .Step("evaluate", "mkdir -p eval && printf '{\"accuracy\": %s, \"rows\": 30}' \"$(cat model.txt)\" > eval/metrics.json",
            ("Inputs", "model.txt"), ("Outputs", "eval/"), ("Metrics", "eval/metrics.json"));

    [Fact]
    public async Task ParametersAndMetricsAreRecordedForExecutedAndRestoredSteps()
    {
        Declare("0.5");
        var first = await _pipeline.RunAsync();
        first.AssertNoDiagnostics();
        Assert.Equal(new Dictionary<string, double> { ["accuracy"] = 0.5, ["rows"] = 30 }, first["evaluate"].Metrics);
        Assert.Equal(new Dictionary<string, string> { ["Gamma"] = "0.5", ["Seed"] = "42" }, first["train"].Parameters);

        // Edited in the working tree: the hit restores the entry's file, and records what it restored.
        _pipeline.Project.Write("eval/metrics.json", """{ "accuracy": 0.01 }""");
        var second = await _pipeline.RunAsync();
        second.AssertOutcome("evaluate", StepOutcome.Cached).AssertNoDiagnostics();
        Assert.Equal(new Dictionary<string, double> { ["accuracy"] = 0.5, ["rows"] = 30 }, second["evaluate"].Metrics);

        using var store = _pipeline.OpenStore();
        foreach (var run in new[] { first, second })
        {
            var steps = store.FindRunSteps(run.Result.RunId)!.ToDictionary(s => s.Step);
            Assert.Equal(new Dictionary<string, string> { ["Gamma"] = "0.5", ["Seed"] = "42" }, steps["train"].Parameters);
            Assert.Null(steps["train"].Metrics); // it declares none
            Assert.Equal(new Dictionary<string, double> { ["accuracy"] = 0.5, ["rows"] = 30 }, steps["evaluate"].Metrics);
            Assert.Equal(new Dictionary<string, string>(), steps["evaluate"].Parameters);
        }
    }

    [Fact]
    public async Task AnUnreadableMetricsFileIsAWarningAndTheStepStillSucceedsAndIsCached()
    {
        _pipeline.Step("evaluate", "mkdir -p eval && printf '{\"accuracy\": 0.9, \"model\": \"rbf\"}' > eval/metrics.json",
            ("Outputs", "eval/"), ("Metrics", "eval/metrics.json"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("evaluate", StepOutcome.Executed);
        Assert.True(run.Result.Succeeded);
        Assert.Contains("'model'", run.SingleWarning(ErrorCodes.MetricsUnreadable).Message, StringComparison.Ordinal);
        Assert.Equal(new Dictionary<string, double> { ["accuracy"] = 0.9 }, run["evaluate"].Metrics);
        (await _pipeline.RunAsync()).AssertOutcome("evaluate", StepOutcome.Cached);
    }

    [Fact]
    public async Task AFailedStepRecordsItsParametersButNoMetrics()
    {
        _pipeline.Step("evaluate", "mkdir -p eval && echo '{\"accuracy\": 1}' > eval/metrics.json && exit 3",
            ("Parameters", "Mode=strict"), ("Outputs", "eval/"), ("Metrics", "eval/metrics.json"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("evaluate", StepOutcome.Failed);
        Assert.Null(run["evaluate"].Metrics);
        using var store = _pipeline.OpenStore();
        var step = store.FindRunSteps(run.Result.RunId)!.Single();
        Assert.Equal(new Dictionary<string, string> { ["Mode"] = "strict" }, step.Parameters);
        Assert.Null(step.Metrics);
    }
}
