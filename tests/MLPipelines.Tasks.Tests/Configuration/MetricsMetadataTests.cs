using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Configuration;

/// <summary>Issue 11, item 10: <c>Metrics</c> names files the step writes, each one of its outputs (MLP1040 otherwise).</summary>
public sealed class MetricsMetadataTests : IDisposable
{
    private readonly TempDirectory _project = new();

    public void Dispose() => _project.Dispose();

    private (StepDefinition? Step, List<PipelineDiagnostic> Diagnostics) Parse(params (string Key, string Value)[] metadata)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var steps = StepParser.Parse([Raw.Step("evaluate", "run", metadata)], _project.Path, diagnostics);
        return (steps.SingleOrDefault(), diagnostics);
    }

    [Theory]
    [InlineData("eval/metrics.json", "eval/metrics.json", "eval/metrics.json")]
    [InlineData("eval/", "eval/metrics.json", "eval/metrics.json")]
    [InlineData("eval/", "./eval/sub/../scores.json", "eval/scores.json")]
    [InlineData("model.bin;eval/m.json", "eval/m.json", "eval/m.json")]
    public void AMetricsFileAmongTheOutputsIsKeptNormalized(string outputs, string metrics, string expected)
    {
        var (step, diagnostics) = Parse(("Outputs", outputs), ("Metrics", metrics));

        Assert.Empty(diagnostics);
        Assert.Equal([expected], step!.Metrics);
    }

    [Theory]
    [InlineData("model.bin", "metrics.json")]          // not an output at all
    [InlineData("eval/", "eval/")]                     // a directory, not a file
    [InlineData("eval/", "eval/*.json")]               // a pattern cannot name what to record
    [InlineData("eval/metrics.json", "eval/")]         // the folder above an output file
    [InlineData("", "metrics.json")]                   // no outputs
    [InlineData("metrics.json", "../metrics.json")]    // outside the project
    public void AMetricsFileThatIsNotAnOutputIsMLP1040NamingTheStepAndTheFile(string outputs, string metrics)
    {
        var (step, diagnostics) = Parse(("Outputs", outputs), ("Metrics", metrics));

        Assert.Null(step);
        var error = Assert.Single(diagnostics);
        Assert.Equal((ErrorCodes.MetricsNotAnOutput, "evaluate"), (error.Code, error.Step));
        Assert.Contains($"Metrics '{metrics}' of step 'evaluate'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MetricsIsAKnownMetadataName() => Assert.Contains("Metrics", StepParser.MetadataNames);
}
