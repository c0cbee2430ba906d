using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd;

/// <summary>The package restores, its SDK loads, and one step runs: the test kit works end to end.</summary>
[Collection(EndToEndSuite.Name)]
public sealed class SmokeTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void StandaloneProjectResolvesTheSdkFromTheTestFeed()
    {
        output.WriteLine($"{SdkPackage.PackageId} {package.Version} was packed in {package.PackDuration.TotalSeconds:0.0}s.");
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PrintTarget("ShowSdk", "UsingMLPipelinesSdk=$(UsingMLPipelinesSdk)", "TaskAssembly=$(MLPipelinesTaskAssembly)")
            .Save(workspace);

        BuildResult result = workspace.Build("pipeline.proj", DotnetRunner.Target("ShowSdk")).EnsureSucceeded();

        result.EnsureLine("UsingMLPipelinesSdk=true");
        string taskAssembly = Assert.Single(result.LinesContaining("TaskAssembly=")).Substring("TaskAssembly=".Length);
        Assert.StartsWith(workspace.PackagesDirectory, Path.GetFullPath(taskAssembly), StringComparison.Ordinal);
        Assert.Contains(package.Version, taskAssembly, StringComparison.OrdinalIgnoreCase);
        Assert.True(File.Exists(taskAssembly), $"No task assembly at {taskAssembly}.\n{result}");
    }

    [Fact]
    public void RunPipelineRunsAStepAndWritesItsOutput()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("hello", "echo hello > out.txt", outputs: "out.txt")
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureSucceeded();

        result.EnsureLine("Step hello has started.");
        Assert.True(workspace.FileExists("out.txt"), result.ToString());
        Assert.Equal("hello", workspace.ReadFile("out.txt").Trim());
    }

    [Fact]
    public void StepMessagesShowWithTheTerminalLogger()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("hello", "echo hello > out.txt", outputs: "out.txt")
            .Save(workspace);

        BuildResult result = new DotnetRunner(workspace) { TerminalLogger = true }
            .RunPipeline()
            .EnsureSucceeded();

        Assert.Contains("Step hello has started.", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void AddOnProjectRunsTheStepsWithDotnetMsbuild()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.CreateAddOn(package.Version)
            .Step("hello", "echo hello > out.txt", outputs: "out.txt")
            .Save(workspace, "app.csproj");

        BuildResult result = workspace.MSBuild("app.csproj", "-restore", DotnetRunner.Target("RunPipeline")).EnsureSucceeded();

        result.EnsureLine("Step hello has started.");
        Assert.True(workspace.FileExists("out.txt"), result.ToString());
    }

    [Fact]
    public void AFailingStepIsAnErrorWithACode()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("broken", "exit 3")
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors);
        Assert.StartsWith("MLP2", error.Code, StringComparison.Ordinal);
        Assert.Contains("broken", error.Message, StringComparison.Ordinal);
        Assert.Equal(workspace.GetPath(PipelineRuns.Project), error.File);
    }
}
