using MLPipelines.Sdk.EndToEnd.Core;
using MLPipelines.Sdk.EndToEnd.Operations;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Policies;

/// <summary>
/// The environment fingerprint (issue 10 §3): a <c>PipelineTool</c>'s version, found once per build by its
/// <c>VersionCommand</c>, joins the keys of the steps that use it, is named on a miss, and is recorded with the run.
/// Here the "tool" is a file, so the test changes its version by writing the file.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class ToolTests(SdkPackage package, ITestOutputHelper output)
{
    private static PipelineProject Project(SdkPackage package, string versionCommand = "cat tool-version.txt") =>
        PipelineProject.Create(package.Version)
            .Item("PipelineTool", "python", [new("VersionCommand", versionCommand)])
            .Step("train", "echo trained >> train.log; echo model > model.txt", outputs: "model.txt")
            .Step("copy", "echo copied >> copy.log; echo copy > copy.txt", outputs: "copy.txt", metadata: [new("Tools", "none")]);

    [Fact]
    public void AChangedToolVersionReRunsTheStepsThatUseItAndIsRecorded()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("tool-version.txt", "3.11.4\n");
        Project(package).Save(workspace);

        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train").EnsureHit("copy");

        workspace.WriteFile("tool-version.txt", "3.12.1\n");
        workspace.PlanPipeline().EnsureSucceeded().EnsureLine("train: miss (tool python changed (3.11.4 -> 3.12.1))").EnsureLine("copy: hit");
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "tool python changed (3.11.4 -> 3.12.1)").EnsureHit("copy");

        Assert.Equal(2, workspace.ReadFile("train.log").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Single(workspace.ReadFile("copy.log").Split('\n', StringSplitOptions.RemoveEmptyEntries));
        IReadOnlyList<ListedRun> runs = workspace.ListRuns().EnsureSucceeded().ListedRuns();
        Assert.Equal(["python=3.12.1", "python=3.11.4", "python=3.11.4"], runs.Select(r => r.Tools));
    }

    [Fact]
    public void AFailingVersionCommandIsMLP2012AndNoStepRuns()
    {
        using Workspace workspace = Workspace.Create(package, output);
        Project(package, "cat no-such-version-file.txt").Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors);
        Assert.Equal("MLP2012", error.Code);
        Assert.Equal(workspace.GetPath(PipelineRuns.Project), error.File);
        Assert.NotNull(error.Line);
        Assert.StartsWith("The VersionCommand of tool 'python' ('cat no-such-version-file.txt') failed with exit code 1. ", error.Message, StringComparison.Ordinal);
        Assert.Contains(" Its standard error ended with: cat: no-such-version-file.txt: No such file or directory", error.Message, StringComparison.Ordinal);
        Assert.Empty(result.LinesContaining("has started."));
        Assert.False(workspace.FileExists("train.log") || workspace.FileExists("copy.log"));
        result.EnsureNoStackTrace();

        // The plan cannot say what the run will do without the version either.
        Assert.Equal("MLP2012", Assert.Single(workspace.PlanPipeline().EnsureFailed().Errors).Code);
    }

    [Fact]
    public void PipelineKeyPlatformKeysTheStepsThatDoNotOptOut()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("native", "echo built > native.txt", outputs: "native.txt")
            .Step("portable", "echo text > portable.txt", outputs: "portable.txt", metadata: [new("Platform", "false")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();

        string platform = $"{(OperatingSystem.IsMacOS() ? "osx" : OperatingSystem.IsWindows() ? "win" : "linux")}-{System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}";
        workspace.RunPipeline(DotnetRunner.Property("PipelineKeyPlatform", "true")).EnsureSucceeded()
            .EnsureMiss("native", $"platform added ({platform})").EnsureHit("portable");
    }
}
