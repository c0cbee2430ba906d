using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// The two ways in (SPEC "What it is"): a standalone pipeline project run by <c>dotnet build</c> (with or without
/// <c>-t:RunPipeline</c>) or <c>dotnet msbuild</c>, and the add-on form inside a Microsoft.NET.Sdk project, where
/// <c>-t:RunPipeline</c> runs the steps and <c>RunPipelineBeforeBuild=true</c> runs them before the compile.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class EntryPointTests(SdkPackage package, ITestOutputHelper output)
{
    [Theory]
    [InlineData("build", "-t:RunPipeline")]
    [InlineData("msbuild", "-t:RunPipeline")]
    [InlineData("build", null)]
    public void StandaloneProjectRunsItsSteps(string command, string? target)
    {
        using Workspace workspace = Workspace.Create(package, output, $"Standalone_{command}_{target?.TrimStart('-').Replace(':', '_') ?? "default"}");
        PipelineProject.Create(package.Version)
            .TracedStep("prepare", "echo prepared > data.txt", outputs: "data.txt")
            .TracedStep("train", "cat data.txt > model.txt", inputs: "data.txt", outputs: "model.txt")
            .Save(workspace);

        BuildResult result = new DotnetRunner(workspace).Run(command, PipelineRuns.Project, target is null ? [] : [target]).EnsureSucceeded();

        result.EnsureMiss("prepare", "no earlier result").EnsureMiss("train", "no earlier result");
        Assert.Equal(["prepare", "train"], workspace.Executed());
        Assert.Equal("prepared\n", workspace.ReadFile("model.txt"));
    }

    [Fact]
    public void AddOnProjectRunsTheStepsWithTheRunPipelineTarget()
    {
        using Workspace workspace = Workspace.Create(package, output);
        AddOnApp(package.Version, runBeforeBuild: false).Save(workspace, "app.csproj");
        WriteProgram(workspace);

        BuildResult result = workspace.Build("app.csproj", DotnetRunner.Target("RunPipeline")).EnsureSucceeded();

        result.EnsureMiss("prepare", "no earlier result");
        Assert.Equal(["prepare"], workspace.Executed());
        Assert.Equal("not compiled\n", workspace.ReadFile("order.txt"));
        // Only the pipeline ran: the app itself was not compiled.
        Assert.False(workspace.FileExists("bin/Debug/net10.0/app.dll"), result.ToString());
    }

    [Fact]
    public void AddOnProjectWithRunPipelineBeforeBuildRunsTheStepsBeforeTheCompile()
    {
        using Workspace workspace = Workspace.Create(package, output);
        AddOnApp(package.Version, runBeforeBuild: true).Save(workspace, "app.csproj");
        WriteProgram(workspace);

        BuildResult result = workspace.Build("app.csproj").EnsureSucceeded();

        result.EnsureMiss("prepare", "no earlier result");
        Assert.Equal(["prepare"], workspace.Executed());
        Assert.True(workspace.FileExists("bin/Debug/net10.0/app.dll"), $"The app was not built.\n{result}");
        // The step looked for the compiler's output while it ran and did not find it: the pipeline came first.
        Assert.Equal("not compiled\n", workspace.ReadFile("order.txt"));
        int compiled = result.Lines.ToList().FindIndex(line => line.Contains("app.dll", StringComparison.Ordinal) && line.Contains(" -> ", StringComparison.Ordinal));
        Assert.True(compiled >= 0, $"Expected the \"app -> …app.dll\" line.\n{result}");
        Assert.True(result.IndexOfLine("Step prepare has started.") < compiled, $"Expected the pipeline to run before the compile.\n{result}");
    }

    private static PipelineProject AddOnApp(string version, bool runBeforeBuild)
    {
        PipelineProject project = PipelineProject.CreateAddOn(version).Property("OutputType", "Exe");
        if (runBeforeBuild)
        {
            project.Property("RunPipelineBeforeBuild", "true");
        }

        return project.TracedStep(
            "prepare",
            "if test -e obj/Debug/net10.0/app.dll; then echo compiled > order.txt; else echo not compiled > order.txt; fi",
            outputs: "order.txt");
    }

    private static void WriteProgram(Workspace workspace) =>
        workspace.WriteFile("Program.cs", "System.Console.WriteLine(\"app\");\n");
}
