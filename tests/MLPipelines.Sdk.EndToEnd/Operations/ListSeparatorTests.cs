using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>
/// Issue 11 item 3, beyond step lists: every list of names (tools, parameter names of <c>IgnoredInputs</c>) takes
/// <c>,</c> as well as <c>;</c>, with spaces and empty items ignored; lists of files are never split at <c>,</c>; and
/// <c>PipelineResumeFrom</c> is read as the other step properties.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class ListSeparatorTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void ToolsSeparatedByCommasKeyEachTool()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("python-version.txt", "3.11.4\n");
        workspace.WriteFile("dotnet-version.txt", "10.0.100\n");
        PipelineProject.Create(package.Version)
            .Item("PipelineTool", "python", [new("VersionCommand", "cat python-version.txt")])
            .Item("PipelineTool", "dotnet", [new("VersionCommand", "cat dotnet-version.txt")])
            .Item("PipelineTool", "node", [new("VersionCommand", "echo 22")])
            .Step("train", "echo model > model.txt", outputs: "model.txt", metadata: [new("Tools", " python , dotnet,")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.WriteFile("dotnet-version.txt", "10.0.200\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "tool dotnet changed (10.0.100 -> 10.0.200)");

        workspace.WriteFile("python-version.txt", "3.12.1\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "tool python changed (3.11.4 -> 3.12.1)");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train");
    }

    [Fact]
    public void IgnoredParameterNamesSeparatedByCommasAreLeftOutButAFileWithACommaStaysOnePath()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("data/a,b.csv", "1\n");
        workspace.WriteFile("data/c.csv", "1\n");
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "0.002")
            .PropertyDefault("Verbose", "false")
            .PropertyDefault("LogLevel", "info")
            .Step("train", "echo $PARAM_Verbose $PARAM_LogLevel > verbose.txt && cat data/*.csv > model.txt",
                inputs: "data/", outputs: "model.txt;verbose.txt", parameters: "Gamma=$(Gamma);Verbose=$(Verbose);LogLevel=$(LogLevel)",
                metadata: [new("IgnoredInputs", "Verbose, LogLevel;;data/a,b.csv;")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        // Both parameter names are ignored, and so is the file whose name holds a comma.
        workspace.WriteFile("data/a,b.csv", "2\n");
        workspace.RunPipeline(DotnetRunner.Property("Verbose", "true"), DotnetRunner.Property("LogLevel", "debug")).EnsureSucceeded().EnsureHit("train");

        // What is not ignored still counts.
        workspace.WriteFile("data/c.csv", "2\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "input data/c.csv changed");
        workspace.RunPipeline(DotnetRunner.Property("Gamma", "0.1")).EnsureSucceeded().EnsureMiss("train", "parameter Gamma changed (0.002 -> 0.1)");
    }

    [Fact]
    public void PipelineResumeFromIgnoresAStraySeparatorAndRefusesTwoSteps()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .CountedStep("a", "printf a > a.txt", outputs: "a.txt")
            .CountedStep("b", "cat a.txt > b.txt", inputs: "a.txt", outputs: "b.txt")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();

        // From the environment, as a script that builds the value up leaves it.
        var runner = new DotnetRunner(workspace);
        runner.Environment["PipelineResumeFrom"] = " b, ";
        runner.RunPipeline().EnsureSucceeded().EnsureMiss("b", "resumed from b");
        Assert.Equal((1, 2), (workspace.Executions("a"), workspace.Executions("b")));

        runner.Environment["PipelineResumeFrom"] = "a,b";
        BuildResult two = runner.RunPipeline().EnsureFailed();
        BuildMessage error = Assert.Single(two.Errors);
        Assert.Equal("MLP1014", error.Code);
        Assert.StartsWith("Property PipelineResumeFrom='a,b' is not valid: give one step", error.Message, StringComparison.Ordinal);
        Assert.Equal((1, 2), (workspace.Executions("a"), workspace.Executions("b")));
    }

    [Fact]
    public void PipelineRunIgnoresAStraySeparatorAndRefusesTwoIds()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version).CountedStep("a", "printf a > a.txt", outputs: "a.txt").Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        string runId = StoreInspector.Of(workspace).LatestRun().Id;

        BuildResult detail = workspace.ListRuns(DotnetRunner.Property("PipelineRun", $" {runId};")).EnsureSucceeded();
        Assert.Single(detail.LinesContaining($"Run {runId} of pipeline pipeline: succeeded, started "));

        BuildResult two = workspace.ListRuns(DotnetRunner.Property("PipelineRun", $"{runId};20991231-000000-abcdef")).EnsureFailed();
        BuildMessage error = Assert.Single(two.Errors);
        Assert.Equal("MLP1014", error.Code);
        Assert.Contains("give one run id", error.Message, StringComparison.Ordinal);
        Assert.Contains("PipelineCompare", error.Message, StringComparison.Ordinal);
    }
}
