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
        Assert.Contains("nothing is recorded from it", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("are recorded", warning.Message, StringComparison.Ordinal);
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
        var message = Assert.Single(warnings).Message;
        Assert.Contains("'eval/b.json'", message, StringComparison.Ordinal);
        Assert.Contains("gives 'accuracy', which an earlier metrics file of the step gave first; the earlier file's value is kept", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "a": 1, "a": 2 }""", 2.0)]
    [InlineData("""{ "a": 1, "b": 5, "a": 2, "a": 3 }""", 3.0)]
    [InlineData("""{ "a": "x", "b": 5, "a": 4 }""", 4.0)]
    public void ANameGivenTwiceInOneFileKeepsItsLastValueAsJsonParsersDo(string content, double expected)
    {
        _project.Write("eval/m.json", content);

        var (values, warnings) = Read("eval/m.json");

        Assert.Equal(expected, values!["a"]);
        var message = Assert.Single(warnings).Message;
        Assert.Contains("gives 'a' more than once; the last value in the file is the one read", message, StringComparison.Ordinal);
        Assert.DoesNotContain("another", message, StringComparison.Ordinal);
        Assert.DoesNotContain("earlier metrics file", message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANameWhoseLastValueInAFileIsNotANumberIsNotRecorded()
    {
        _project.Write("eval/m.json", """{ "a": 1, "a": "n/a", "b": 2 }""");

        var (values, warnings) = Read("eval/m.json");

        Assert.Equal(new Dictionary<string, double> { ["b"] = 2 }, values);
        var message = Assert.Single(warnings).Message;
        Assert.Contains("not numbers ('a'", message, StringComparison.Ordinal);
        Assert.Contains("gives 'a' more than once", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("{ \"a\": NaN, \"b\": 1 }")]
    [InlineData("{ \"accuracy\": 0.9")] // cut off while written: 0.9 may be the start of 0.95
    [InlineData("")]
    public void AnInvalidFileThatGaveNoNumberSaysNothingIsRecorded(string content)
    {
        _project.Write("eval/m.json", content);

        var (values, warnings) = Read("eval/m.json");

        Assert.Empty(values!);
        var message = Assert.Single(warnings).Message;
        Assert.Contains("is not valid JSON (", message, StringComparison.Ordinal);
        Assert.Contains("so nothing is recorded from it", message, StringComparison.Ordinal);
        Assert.DoesNotContain("are recorded", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "a": 1, "b": NaN }""")]
    [InlineData("""{ "a": 1, "b": 2, "c": Infinity }""")]
    [InlineData("""{ "a": 1, "b": 2 } trailing""")]
    public void AnInvalidFileRecordsTheNumbersBeforeTheErrorAndNamesThem(string content)
    {
        _project.Write("eval/m.json", content);

        var (values, warnings) = Read("eval/m.json");

        Assert.Equal(1, values!["a"]);
        Assert.DoesNotContain("c", values.Keys);
        var message = Assert.Single(warnings).Message;
        Assert.Contains("is not valid JSON (", message, StringComparison.Ordinal);
        Assert.Contains($"only the numbers before the error are recorded ({string.Join(", ", values.Keys.Select(k => $"'{k}'"))})", message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileWithAByteOrderMarkIsRead()
    {
        _project.Write("eval/m.json", "\uFEFF{ \"a\": 1 }");

        var (values, warnings) = Read("eval/m.json");

        Assert.Empty(warnings);
        Assert.Equal(new Dictionary<string, double> { ["a"] = 1 }, values);
    }

    [Fact]
    public void AFileLargerThanTheLimitIsNotRead()
    {
        _project.Write("eval/m.json", "{\"a\": 1" + new string(' ', (int)StepMetrics.MaxFileBytes) + "}");

        var (values, warnings) = Read("eval/m.json");

        Assert.Empty(values!);
        Assert.Contains("is larger than", Assert.Single(warnings).Message, StringComparison.Ordinal);
        Assert.Contains("nothing is recorded from it", Assert.Single(warnings).Message, StringComparison.Ordinal);
    }
}
