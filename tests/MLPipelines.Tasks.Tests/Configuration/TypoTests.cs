using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Configuration;

/// <summary>
/// A misspelt name that would silently change nothing (issue 11, item 4): an <c>IgnoredInputs</c> entry that meets
/// nothing (MLP1080), a <c>Step</c> or <c>PipelineTool</c> metadata name close to ours (MLP1081).
/// </summary>
public sealed class TypoTests : IDisposable
{
    private readonly TempDirectory _project = new();

    public void Dispose() => _project.Dispose();

    private List<PipelineDiagnostic> Parse(params (string Key, string Value)[] metadata)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        StepParser.Parse([Raw.Step("train", "run", metadata)], _project.Path, diagnostics);
        return diagnostics;
    }

    [Theory]
    [InlineData("Verbose")] // a parameter
    [InlineData("data/log.txt")] // a file below an input folder
    [InlineData("./data/log.txt")]
    [InlineData("data/*.log")] // a glob below an input folder
    [InlineData("**/*.log")]
    [InlineData("data/")] // the input folder itself
    [InlineData("features/")] // a folder holding an input file
    [InlineData("features/debug.csv")] // an input file
    [InlineData("extra/a.txt")] // a file an input glob can match
    [InlineData("extra/")] // a folder an input glob can reach into
    [InlineData("extra/*.txt")] // two globs: taken to meet
    public void AnIgnoredInputThatCanMeetAnInputOrNamesAParameterIsAccepted(string ignored)
    {
        var diagnostics = Parse(("Inputs", "data/;features/debug.csv;extra/*.txt"), ("Parameters", "Gamma=1;Verbose=true"), ("IgnoredInputs", ignored));

        Assert.Empty(diagnostics);
    }

    [Theory]
    [InlineData("Verbsoe", "Did you mean 'Verbose'?")] // a misspelt parameter
    [InlineData("verbose", "Parameter names match exactly: write 'Verbose'.")] // the key compares names exactly
    [InlineData("dat/", "Did you mean 'data/'?")] // a misspelt folder
    [InlineData("featuers/debug.csv", "")] // a misspelt file
    [InlineData("logs/*.log", "")] // a glob that can match no input
    [InlineData("*.log", "")] // a top-level glob cannot reach into data/
    [InlineData("features/debug.txt", "")] // a sibling of an input file
    [InlineData("Seed", "")] // a parameter the step does not have
    public void AnIgnoredInputThatMeetsNothingIsMLP1080NamingTheStepTheEntryAndWhatItCouldName(string ignored, string hint)
    {
        var diagnostics = Parse(("Inputs", "data/;features/debug.csv"), ("Parameters", "Gamma=1;Verbose=true"), ("IgnoredInputs", $"Gamma;{ignored}"));

        var error = Assert.Single(diagnostics);
        Assert.Equal(ErrorCodes.IgnoredInputMatchesNothing, error.Code);
        Assert.Equal("train", error.Step);
        Assert.Contains($"IgnoredInputs of step 'train' names '{ignored}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
        Assert.Contains("Its Parameters: Gamma, Verbose. Its Inputs: data/, features/debug.csv.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnIgnoredInputOfAStepWithNoInputsOrParametersIsMLP1080()
    {
        var error = Assert.Single(Parse(("IgnoredInputs", "logs/")));

        Assert.Equal(ErrorCodes.IgnoredInputMatchesNothing, error.Code);
        Assert.Contains("Its Parameters: none. Its Inputs: none.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnIgnoredInputThatMeetsAnotherStepIsAPipelineWideDefaultNotATypoButOneThatMeetsNoStepIsMLP1080()
    {
        // An ItemDefinitionGroup's IgnoredInputs="Verbose;**/*.log" reaches every step; MSBuild does not tell where
        // metadata came from, so an entry is refused only when no step of the pipeline has what it names.
        var diagnostics = new List<PipelineDiagnostic>();
        StepParser.Parse(
            [Raw.Step("load", "run", ("Inputs", "raw/a.csv"), ("IgnoredInputs", "Verbose;**/*.log")),
             Raw.Step("train", "run", ("Inputs", "logs/*.log"), ("Parameters", "Verbose=1"), ("IgnoredInputs", "Verbose;**/*.log")),
             Raw.Step("report", "run", ("IgnoredInputs", "Verbose;**/*.log;Verbsoe"))],
            _project.Path, diagnostics);

        var error = Assert.Single(diagnostics);
        Assert.Equal(ErrorCodes.IgnoredInputMatchesNothing, error.Code);
        Assert.Equal("report", error.Step);
        Assert.Contains("names 'Verbsoe'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Ouputs", "Outputs")]
    [InlineData("Input", "Inputs")]
    [InlineData("DependOn", "DependsOn")]
    [InlineData("Comand", "Command")]
    [InlineData("Parameter", "Parameters")]
    [InlineData("IgnoreInputs", "IgnoredInputs")]
    [InlineData("EnableCahce", "EnableCache")]
    [InlineData("enviroment", "Environment")]
    [InlineData("Tool", "Tools")]
    [InlineData("Codes", "Code")]
    [InlineData("Metric", "Metrics")]
    [InlineData("Inptus", "Inputs")] // two letters swapped
    public void AStepMetadataNameCloseToOneOfOursIsMLP1081NamingTheOneMeant(string given, string meant)
    {
        var warning = Assert.Single(StepParser.MisspeltMetadata(Raw.Step("train", "run", (given, "x"))));

        Assert.Equal(ErrorCodes.MisspeltMetadata, warning.Code);
        Assert.Equal("train", warning.Step);
        Assert.Contains($"Step 'train' has metadata '{given}', which MLPipelines.Sdk does not read: did you mean '{meant}'?", warning.Message, StringComparison.Ordinal);
        Assert.Contains("Command, WorkingDirectory, Environment", warning.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Owner")] // custom metadata, far from ours
    [InlineData("Description")]
    [InlineData("Cmd")] // short: not taken for Code
    [InlineData("Stage")]
    [InlineData("Notes")]
    [InlineData("outputs")] // ours, in another case: MSBuild metadata names ignore case
    [InlineData("Directory")] // MSBuild's well-known metadata
    [InlineData("Extension")]
    public void OurMetadataCustomMetadataAndMSBuildsOwnAreSilent(string name) =>
        Assert.Empty(StepParser.MisspeltMetadata(Raw.Step("train", "run", (name, "x"))));

    [Theory]
    [InlineData("VersionComand")]
    [InlineData("VersionCommands")]
    [InlineData("versioncomand")]
    [InlineData("VersonCommand")]
    public void APipelineToolMetadataNameCloseToVersionCommandIsMLP1081(string given)
    {
        var warning = Assert.Single(ToolParser.MisspeltMetadata("python", [given]));

        Assert.Equal(ErrorCodes.MisspeltMetadata, warning.Code);
        Assert.Contains($"PipelineTool 'python' has metadata '{given}', which MLPipelines.Sdk does not read: did you mean 'VersionCommand'?", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APipelineToolsOwnMetadataIsSilent() =>
        Assert.Empty(ToolParser.MisspeltMetadata("python", ["VersionCommand", "Owner"]));

    [Theory]
    [InlineData("Outputs", "Outputs", 0)]
    [InlineData("Ouputs", "Outputs", 1)]
    [InlineData("Inptus", "Inputs", 1)]
    [InlineData("abc", "", 3)]
    public void DistanceCountsEditsIgnoringCase(string a, string b, int expected) =>
        Assert.Equal(expected, NameSuggestion.Distance(a, b));

    [Theory]
    [InlineData("PipelineStep", "PipelineSteps")]
    [InlineData("PipelinForce", "PipelineForce")]
    [InlineData("EnablePipelineCach", "EnablePipelineCache")]
    [InlineData("PipelineResumFrom", "PipelineResumeFrom")]
    [InlineData("pipelinestrictenviroment", "PipelineStrictEnvironment")]
    [InlineData("RunPipelineBeforeBuilds", "RunPipelineBeforeBuild")]
    public void AGlobalPropertyCloseToOneOfOursIsMLP1082NamingTheOneMeant(string given, string meant)
    {
        var warning = Assert.Single(PropertyParser.MisspeltGlobalProperties([given, "Configuration", "PipelineSteps", "Gamma"]));

        Assert.Equal(ErrorCodes.MisspeltProperty, warning.Code);
        Assert.Contains($"Property '{given}' (given with -p:) is not one MLPipelines.Sdk reads: did you mean '{meant}'?", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OurGlobalPropertiesInAnyCaseAndOthersFarFromThemAreSilent() =>
        Assert.Empty(PropertyParser.MisspeltGlobalProperties(
            ["pipelinesteps", "PipelineForce", "PipelineRun", "PipelineRunsLimit", "Configuration", "TargetFramework", "PipelineStage", "ModelVersion", "MLPipelinesTaskAssembly"]));

    [Theory]
    [InlineData("A B")]
    [InlineData("A=B")]
    [InlineData("AWS_*_KEY")]
    [InlineData("SE?D")]
    public void APassThroughNameNoVariableCanHaveIsMLP1014(string name)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        PropertyParser.ParsePassThrough($"HTTP_PROXY;{name}", diagnostics);

        var error = Assert.Single(diagnostics);
        Assert.Equal(ErrorCodes.InvalidProperty, error.Code);
        Assert.Contains($"Property PipelinePassThroughEnvironment names '{name}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PassThroughNamesAndPrefixesAreKeptAsGivenWithoutDroppingAnotherCase()
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var names = PropertyParser.ParsePassThrough("AWS_*, HTTP_PROXY;http_proxy;*;ProgramFiles(x86)", diagnostics);

        Assert.Empty(diagnostics);
        Assert.Equal(["AWS_*", "HTTP_PROXY", "http_proxy", "*", "ProgramFiles(x86)"], names);
    }
}
