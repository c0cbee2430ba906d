using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// SPEC "Failure and bad input": invalid configuration is an MSBuild error with its MLP1xxx code, the step's name (or
/// the property's) and the project file, reported before any step runs, and never a stack trace. One test per code;
/// each pipeline also has a valid step "marker" that writes marker.txt, which must not exist afterwards.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class ConfigurationErrorTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void InvalidStepNameIsMLP1001() =>
        AssertConfigurationError(Pipeline().Step("bad!name", "echo x > bad.txt", outputs: "bad.txt"), "MLP1001", "bad!name");

    [Fact]
    public void DuplicateStepNameIsMLP1002() =>
        AssertConfigurationError(
            Pipeline().Step("twin", "echo 1 > one.txt", outputs: "one.txt").Step("twin", "echo 2 > two.txt", outputs: "two.txt"),
            "MLP1002",
            "twin");

    [Fact]
    public void MissingCommandIsMLP1003() =>
        AssertConfigurationError(Pipeline().Step("silent", "", outputs: "silent.txt"), "MLP1003", "silent");

    [Fact]
    public void UnknownDependsOnIsMLP1004() =>
        AssertConfigurationError(Pipeline().Step("orphan", "echo x > orphan.txt", outputs: "orphan.txt", dependsOn: "ghost"), "MLP1004", "orphan", "ghost");

    [Fact]
    public void DependencyCycleIsMLP1005() =>
        AssertConfigurationError(
            Pipeline()
                .Step("alpha", "echo a > alpha.txt", outputs: "alpha.txt", dependsOn: "beta")
                .Step("beta", "echo b > beta.txt", outputs: "beta.txt", dependsOn: "alpha"),
            "MLP1005",
            "alpha",
            "beta");

    [Fact]
    public void TwoStepsDeclareTheSameOutputIsMLP1006() =>
        AssertConfigurationError(
            Pipeline()
                .Step("first", "echo 1 > shared.txt", outputs: "shared.txt")
                .Step("second", "echo 2 > shared.txt", outputs: "shared.txt"),
            "MLP1006",
            "second",
            "first");

    [Theory]
    [InlineData("SE*")]
    [InlineData("SEED OTHER")]
    [InlineData("SEED=1")]
    public void AnEnvironmentDependencyNoVariableCanHaveIsMLP1025(string names) =>
        AssertConfigurationError(
            Pipeline().Step("keyed", "echo $SEED > keyed.txt", outputs: "keyed.txt", metadata: [new("EnvironmentDependencies", names)]),
            "MLP1025",
            "keyed");

    [Fact]
    public void OutputOverlapsOwnInputIsMLP1007()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("data/in.txt", "in\n");
        AssertConfigurationError(workspace, Pipeline().Step("selfish", "cat data/in.txt > data/out.txt", inputs: "data/", outputs: "data/out.txt"), "MLP1007", ["selfish"]);
    }

    [Fact]
    public void OutputOutsideTheProjectIsMLP1008() =>
        AssertConfigurationError(Pipeline().Step("escape", "echo x > ../outside.txt", outputs: "../outside.txt"), "MLP1008", "escape");

    [Fact]
    public void InvalidCacheVersionIsMLP1009() =>
        AssertConfigurationError(Pipeline().Step("versioned", "echo x > v.txt", outputs: "v.txt", metadata: [new("CacheVersion", "1.0")]), "MLP1009", "versioned");

    [Fact]
    public void InvalidExpiresAfterIsMLP1010() =>
        AssertConfigurationError(Pipeline().Step("expiring", "echo x > e.txt", outputs: "e.txt", metadata: [new("ExpiresAfter", "soon")]), "MLP1010", "expiring");

    [Fact]
    public void InvalidParametersPairIsMLP1011() =>
        AssertConfigurationError(Pipeline().Step("tuned", "echo x > t.txt", outputs: "t.txt", parameters: "Gamma"), "MLP1011", "tuned");

    [Fact]
    public void InvalidBooleanIsMLP1012() =>
        AssertConfigurationError(Pipeline().Step("unsure", "echo x > u.txt", outputs: "u.txt", metadata: [new("EnableCache", "maybe")]), "MLP1012", "unsure");

    [Fact]
    public void InvalidCacheStrategyIsMLP1013() =>
        AssertConfigurationError(
            Pipeline().Step("strategic", "echo x > s.txt", outputs: "s.txt", metadata: [new("CacheStrategy", "Everything")]),
            "MLP1013",
            "strategic");

    [Fact]
    public void InvalidPropertyIsMLP1014() =>
        AssertConfigurationError(Pipeline(), "MLP1014", ["PipelineMaxParallelism"], DotnetRunner.Property("PipelineMaxParallelism", "0"));

    [Fact]
    public void UnknownSelectedStepIsMLP1015() =>
        AssertConfigurationError(Pipeline(), "MLP1015", ["ghost"], DotnetRunner.Property("PipelineSteps", "ghost"));

    /// <summary>A pipeline with one valid step, whose marker file shows whether any step ran.</summary>
    private PipelineProject Pipeline() =>
        PipelineProject.Create(package.Version).Step("marker", "echo ran > marker.txt", outputs: "marker.txt");

    private void AssertConfigurationError(PipelineProject project, string code, params string[] named) =>
        AssertConfigurationError(project, code, named, []);

    private void AssertConfigurationError(PipelineProject project, string code, string[] named, params string[] arguments)
    {
        using Workspace workspace = Workspace.Create(package, output, code);
        AssertConfigurationError(workspace, project, code, named, arguments);
    }

    private static void AssertConfigurationError(Workspace workspace, PipelineProject project, string code, string[] named, params string[] arguments)
    {
        project.Save(workspace);

        BuildResult result = workspace.RunPipeline(arguments).EnsureFailed();

        List<BuildMessage> errors = result.Errors.Where(e => e.Code == code).ToList();
        Assert.True(errors.Count > 0, $"Expected an error {code}.\n{result}");
        Assert.Contains(errors, error =>
            named.All(name => error.Message.Contains(name, StringComparison.Ordinal))
            && error.File == workspace.GetPath(PipelineRuns.Project));
        // Every error is a configuration error: nothing crashed, nothing ran.
        Assert.All(result.Errors, error => Assert.StartsWith("MLP1", error.Code, StringComparison.Ordinal));
        Assert.False(workspace.FileExists("marker.txt"), $"A step ran despite the configuration error.\n{result}");
        Assert.Empty(result.LinesContaining("has started."));
        result.EnsureNoStackTrace();
    }
}
