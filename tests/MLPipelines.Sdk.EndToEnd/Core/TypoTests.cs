using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// Issue 11, item 4, as a kind: a misspelt name or value must never be accepted silently and change nothing. Each
/// case through the packed SDK: the error (nothing runs) or warning, with its code, naming what was misspelt, the
/// step and the project file. The cases already rejected before issue 11's checker are held here too, so none regresses.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class TypoTests(SdkPackage package, ITestOutputHelper output)
{
    [Theory]
    [InlineData("Verbsoe", "Did you mean 'Verbose'?")]
    [InlineData("verbose", "write 'Verbose'")]
    [InlineData("dat/", "Did you mean 'data/'?")]
    [InlineData("logs/", "")]
    public void AnIgnoredInputThatMeetsNoInputOrParameterIsMLP1080AndNothingRuns(string ignored, string hint)
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("data/train.csv", "x\n");
        Pipeline()
            .Step("train", "cat data/train.csv > model.txt", inputs: "data/;*.log", outputs: "model.txt", parameters: "Verbose=false",
                metadata: [new("IgnoredInputs", ignored)])
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = AssertOnlyError(workspace, result, "MLP1080");
        Assert.Contains($"IgnoredInputs of step 'train' names '{ignored}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
        Assert.Contains("Its Parameters: Verbose. Its Inputs: data/, *.log.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APipelineWideIgnoredInputsDefaultIsAcceptedWhereSomeStepHasWhatItNamesAndLeavesItOutThere()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("raw/a.csv", "a\n");
        workspace.WriteFile("logs/run.log", "first\n");
        Pipeline()
            .ItemDefinition("IgnoredInputs", "Verbose;**/*.log")
            .Step("load", "cat raw/a.csv > a.txt", inputs: "raw/a.csv", outputs: "a.txt")
            .Step("train", "cat a.txt > model.txt", inputs: "a.txt;logs/*.log", outputs: "model.txt", parameters: "Verbose=$(Verbose)")
            .Save(workspace);

        workspace.RunPipeline(DotnetRunner.Property("Verbose", "1")).EnsureSucceeded().EnsureMiss("train", "no earlier result");
        workspace.WriteFile("logs/run.log", "second, longer\n");

        // The step without a log or a Verbose parameter is not an error; the one with them leaves both out of its key.
        workspace.RunPipeline(DotnetRunner.Property("Verbose", "2")).EnsureSucceeded().EnsureHit("load").EnsureHit("train");
    }

    [Theory]
    [InlineData("Ouputs", "model.txt", "Outputs")]
    [InlineData("Input", "data.csv", "Inputs")]
    [InlineData("DependOn", "marker", "DependsOn")]
    [InlineData("EnableCahce", "false", "EnableCache")]
    public void AStepMetadataNameCloseToOursIsWarningMLP1081AtTheStepNamingTheOneMeant(string given, string value, string meant)
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("data.csv", "x\n");
        Pipeline()
            .Step("train", "cat data.csv > model.txt", metadata: [new(given, value), new("Owner", "data-team")])
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureSucceeded();

        BuildMessage warning = Assert.Single(result.Warnings, w => w.Code == "MLP1081");
        Assert.Contains($"Step 'train' has metadata '{given}', which MLPipelines.Sdk does not read: did you mean '{meant}'?", warning.Message, StringComparison.Ordinal);
        Assert.Equal(workspace.GetPath(PipelineRuns.Project), warning.File);
        Assert.NotNull(warning.Line); // at the <Step> element, so an IDE jumps there
        // Owner is the project's own metadata, far from ours: silent.
        Assert.DoesNotContain(result.Warnings, w => w.Message.Contains("Owner", StringComparison.Ordinal));
    }

    [Fact]
    public void APipelineToolVersionComandIsWarningMLP1081BesideTheMissingVersionCommandError()
    {
        using Workspace workspace = Workspace.Create(package, output);
        Pipeline()
            .Item("PipelineTool", "python", [new("VersionComand", "python3 --version")])
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage warning = Assert.Single(result.Warnings, w => w.Code == "MLP1081");
        Assert.Contains("PipelineTool 'python' has metadata 'VersionComand', which MLPipelines.Sdk does not read: did you mean 'VersionCommand'?", warning.Message, StringComparison.Ordinal);
        Assert.Equal(workspace.GetPath(PipelineRuns.Project), warning.File);
        Assert.Contains(result.Errors, e => e.Code == "MLP1022" && e.Message.Contains("'python' has no VersionCommand", StringComparison.Ordinal));
        Assert.False(workspace.FileExists("marker.txt"), result.ToString());
    }

    [Theory]
    [InlineData("PipelineStep", "marker", "PipelineSteps")]
    [InlineData("PipelinForce", "*", "PipelineForce")]
    [InlineData("EnablePipelineCach", "false", "EnablePipelineCache")]
    public void AGlobalPropertyCloseToOursIsWarningMLP1082NamingTheOneMeant(string given, string value, string meant)
    {
        using Workspace workspace = Workspace.Create(package, output);
        Pipeline().Save(workspace);

        BuildResult result = workspace.RunPipeline(DotnetRunner.Property(given, value)).EnsureSucceeded();

        BuildMessage warning = Assert.Single(result.Warnings, w => w.Code == "MLP1082");
        Assert.Contains($"Property '{given}' (given with -p:) is not one MLPipelines.Sdk reads: did you mean '{meant}'?", warning.Message, StringComparison.Ordinal);
        Assert.Equal(workspace.GetPath(PipelineRuns.Project), warning.File);
    }

    [Theory]
    [InlineData("ture")]
    [InlineData("flase")]
    [InlineData("1")] // ("yes" and "on" are true to MSBuild's conditions, so they run the pipeline as meant)
    public void RunPipelineBeforeBuildThatIsNotABooleanIsMLP1014InsteadOfABuildWithoutThePipeline(string value)
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.CreateAddOn(package.Version)
            .Property("OutputType", "Exe")
            .Property("RunPipelineBeforeBuild", value)
            .Step("marker", "echo ran > marker.txt", outputs: "marker.txt")
            .Save(workspace, "app.csproj");
        workspace.WriteFile("Program.cs", "System.Console.WriteLine(\"app\");\n");

        BuildResult result = workspace.Build("app.csproj").EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors.Where(e => e.Code == "MLP1014").DistinctBy(e => e.Message));
        Assert.Equal($"Property RunPipelineBeforeBuild='{value}' is not valid: use true or false.", error.Message);
        Assert.Equal(workspace.GetPath("app.csproj"), error.File);
        Assert.False(workspace.FileExists("bin/Debug/net10.0/app.dll"), result.ToString());
    }

    [Theory]
    [InlineData("A B")]
    [InlineData("AWS_*_KEY")]
    [InlineData("TOKEN=1")]
    public void APassThroughNameNoVariableCanHaveIsMLP1014(string name)
    {
        using Workspace workspace = Workspace.Create(package, output);
        Pipeline().Property("PipelineStrictEnvironment", "true").Property("PipelinePassThroughEnvironment", $"HTTP_PROXY;{name}").Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = AssertOnlyError(workspace, result, "MLP1014");
        Assert.Contains($"Property PipelinePassThroughEnvironment names '{name}'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The candidates of the same kind that were already rejected: held, so none becomes silent again.</summary>
    [Theory]
    [InlineData("PipelineResumeFrom", "trian", "MLP1016")]
    [InlineData("PipelineResumeFrom", "20261130-000000-000000:trian", "MLP1016")]
    [InlineData("PipelineForce", "trian", "MLP1015")]
    [InlineData("PipelineSteps", "trian", "MLP1015")]
    [InlineData("EnablePipelineCache", "flase", "MLP1014")]
    [InlineData("PipelineReplayLogs", "ture", "MLP1014")]
    [InlineData("PipelineStrictEnvironment", "ture", "MLP1014")]
    [InlineData("PipelineContinueOnError", "ture", "MLP1014")]
    [InlineData("PipelineKeyPlatform", "yes", "MLP1014")]
    public void AMisspeltPropertyValueIsAnError(string property, string value, string code)
    {
        using Workspace workspace = Workspace.Create(package, output);
        Pipeline().Save(workspace);

        BuildResult result = workspace.RunPipeline(DotnetRunner.Property(property, value)).EnsureFailed();

        BuildMessage error = AssertOnlyError(workspace, result, code);
        Assert.Contains(code == "MLP1014" ? property : "trian", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("EnableCache", "ture", "MLP1012")]
    [InlineData("PersistOutputs", "flase", "MLP1012")]
    [InlineData("IncludeStepCode", "yes", "MLP1012")]
    [InlineData("CacheStrategy", "Input", "MLP1013")]
    [InlineData("CacheStrategy", "codehsah", "MLP1013")]
    [InlineData("DependsOn", "makrer", "MLP1004")]
    [InlineData("Tools", "pyhton", "MLP1023")]
    public void AMisspeltMetadataValueIsAnErrorNamingTheStep(string metadata, string value, string code)
    {
        using Workspace workspace = Workspace.Create(package, output);
        Pipeline().Step("train", "echo x > model.txt", outputs: "model.txt", metadata: [new(metadata, value)]).Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = AssertOnlyError(workspace, result, code);
        Assert.Contains("'train'", error.Message, StringComparison.Ordinal);
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
    }

    /// <summary>A pipeline with one valid step, whose marker file shows whether any step ran.</summary>
    private PipelineProject Pipeline() =>
        PipelineProject.Create(package.Version).Step("marker", "echo ran > marker.txt", outputs: "marker.txt");

    private static BuildMessage AssertOnlyError(Workspace workspace, BuildResult result, string code)
    {
        BuildMessage error = Assert.Single(result.Errors, e => e.Code == code);
        Assert.All(result.Errors, e => Assert.Equal(code, e.Code));
        Assert.Equal(workspace.GetPath(PipelineRuns.Project), error.File);
        Assert.False(workspace.FileExists("marker.txt"), $"A step ran despite the configuration error.\n{result}");
        result.EnsureNoStackTrace();
        return error;
    }
}
