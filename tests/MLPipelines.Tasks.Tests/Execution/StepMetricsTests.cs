using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// Issue 11, item 10: a metrics file is a flat JSON object of numbers; anything else is warning MLP2020 naming the
/// step and the file, and the numbers that can be read are still recorded (DVC reads metrics so).
/// </summary>
public sealed class StepMetricsTests : IDisposable
{
    private readonly TempDirectory _project = new();

    public void Dispose() => _project.Dispose();

    private (SortedDictionary<string, double>? Values, List<PipelineDiagnostic> Warnings) Read(params string[] files)
    {
        var warnings = new List<PipelineDiagnostic>();
        var step = new StepDefinition { Name = "evaluate", Command = "run", Outputs = ["eval/"], Metrics = files };
        return (StepMetrics.Read(_project.Path, step, warnings), warnings);
    }

    [Fact]
    public void AFlatObjectOfNumbersIsReadWhole()
    {
        _project.Write("eval/m.json", """{ "accuracy": 0.9667, "loss": 1.5e-3, "rows": 30, "delta": -2 }""");

        var (values, warnings) = Read("eval/m.json");

        Assert.Empty(warnings);
        Assert.Equal(new Dictionary<string, double> { ["accuracy"] = 0.9667, ["delta"] = -2, ["loss"] = 0.0015, ["rows"] = 30 }, values);
    }

    [Fact]
    public void AStepWithoutMetricsHasNone() => Assert.Null(Read().Values);

    [Theory]
    [InlineData(null, "does not exist")]
    [InlineData("{ \"accuracy\": 0.9", "is not valid JSON")]
    [InlineData("[0.9, 0.8]", "is a JSON array, not an object")]
    [InlineData("0.97", "is a JSON number, not an object")]
    public void AMissingOrMalformedFileIsOneWarningAndNoValues(string? content, string problem)
    {
        if (content is not null)
        {
            _project.Write("eval/m.json", content);
        }

        var (values, warnings) = Read("eval/m.json");

        Assert.Empty(values!);
        var warning = Assert.Single(warnings);
        Assert.Equal((ErrorCodes.MetricsUnreadable, "evaluate"), (warning.Code, warning.Step));
        Assert.Contains($"Metrics file 'eval/m.json' of step 'evaluate' {problem}", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesThatAreNotNumbersAreNamedInAWarningAndTheNumbersAreKept()
    {
        _project.Write("eval/m.json", """{ "accuracy": 0.9, "model": "rbf", "per_class": { "setosa": 1.0 }, "ok": true, "none": null }""");

        var (values, warnings) = Read("eval/m.json");

        Assert.Equal(new Dictionary<string, double> { ["accuracy"] = 0.9 }, values);
        var warning = Assert.Single(warnings);
        Assert.Contains("'model', 'per_class', 'ok', 'none'", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoFilesAreMergedAndANameGivenTwiceKeepsTheFirstValueWithAWarning()
    {
        _project.Write("eval/a.json", """{ "accuracy": 0.9 }""");
        _project.Write("eval/b.json", """{ "accuracy": 0.1, "f1": 0.8 }""");

        var (values, warnings) = Read("eval/a.json", "eval/b.json");

        Assert.Equal(new Dictionary<string, double> { ["accuracy"] = 0.9, ["f1"] = 0.8 }, values);
        Assert.Contains("'eval/b.json'", Assert.Single(warnings).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileLargerThanTheLimitIsNotRead()
    {
        _project.Write("eval/m.json", "{\"a\": 1" + new string(' ', (int)StepMetrics.MaxFileBytes) + "}");

        var (values, warnings) = Read("eval/m.json");

        Assert.Empty(values!);
        Assert.Contains("is larger than", Assert.Single(warnings).Message, StringComparison.Ordinal);
    }
}
