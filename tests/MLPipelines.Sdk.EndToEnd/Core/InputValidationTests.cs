using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// Inputs and outputs say what they mean (SPEC <c>&lt;Step&gt;</c> metadata, "Failure and bad input"): what a step
/// declares either exists or is an error with a code naming the step and the path, never an empty key, a silent
/// pass or a stack trace. Each pipeline has a valid step "marker" that writes marker.txt, to show whether steps ran.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class InputValidationTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void AWildcardOutputIsMLP1018BeforeAnyStepRuns()
    {
        using Workspace workspace = Workspace.Create(package, output);
        Pipeline().TracedStep("train", "mkdir -p model && echo w > model/w.bin", outputs: "model/*.bin").Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = AssertSingleError(workspace, result, "MLP1018");
        Assert.Equal("Output 'model/*.bin' of step 'train' is a wildcard; declare the directory ('model/') or the files.", error.Message);
        AssertNothingRan(workspace, result);
    }

    [Fact]
    public void AMissingInputDirectoryIsMLP2005AndTheStepDoesNotRun()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version).TracedStep("train", "ls raw > model.txt", inputs: "raw/", outputs: "model.txt").Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = AssertSingleError(workspace, result, "MLP2005");
        Assert.Equal("Input 'raw/' of step 'train' does not exist. Create it, produce it in an upstream step, or remove it from the step.", error.Message);
        Assert.Empty(workspace.Executed());
        Assert.Empty(StoreInspector.Of(workspace).Entries());
    }

    [Theory]
    [InlineData("Code", "Code file")]
    [InlineData("FileDependencies", "File dependency")]
    [InlineData("SourceDependencies", "Source dependency")]
    public void AMissingFolderInAnyKindOfDependencyIsMLP2005(string metadata, string kind)
    {
        using Workspace workspace = Workspace.Create(package, output, $"MissingFolder{metadata}");
        PipelineProject.Create(package.Version)
            .TracedStep("train", "echo t > model.txt", outputs: "model.txt", metadata: [new(metadata, "lib/")])
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = AssertSingleError(workspace, result, "MLP2005");
        Assert.StartsWith($"{kind} 'lib/' of step 'train' does not exist.", error.Message, StringComparison.Ordinal);
        Assert.Empty(workspace.Executed());
    }

    [Fact]
    public void ADanglingSymbolicLinkAmongTheInputsIsMLP2005NamingTheLink()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("raw/iris.csv", "x,y\n");
        workspace.Run("ln", "-s", "../archive/wine.csv", "raw/wine.csv").EnsureSucceeded();
        PipelineProject.Create(package.Version).TracedStep("train", "cat raw/* > model.txt", inputs: "raw/", outputs: "model.txt").Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = AssertSingleError(workspace, result, "MLP2005");
        Assert.Equal(
            "Input 'raw/wine.csv' of step 'train' is a symbolic link to '../archive/wine.csv', which does not exist. Create it, produce it in an upstream step, or remove it from the step.",
            error.Message);
        Assert.Empty(workspace.Executed());
    }

    [Fact]
    public void APipeInAnInputFolderIsMLP2005AndDoesNotHangTheBuild()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("raw/iris.csv", "x,y\n");
        workspace.Run("mkfifo", "raw/pipe").EnsureSucceeded();
        PipelineProject.Create(package.Version).TracedStep("train", "cat raw/iris.csv > model.txt", inputs: "raw/", outputs: "model.txt").Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = AssertSingleError(workspace, result, "MLP2005");
        Assert.StartsWith("Input 'raw/pipe' of step 'train' is not a regular file (a pipe, socket or device).", error.Message, StringComparison.Ordinal);
        Assert.Empty(workspace.Executed());
    }

    [Fact]
    public void ALinkedFolderInAnInputFolderIsFollowedAndALoopOfLinksIsNoError()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("raw/iris.csv", "x,y\n").WriteFile("datasets/wine/red.csv", "red\n");
        workspace.Run("ln", "-s", "../datasets/wine", "raw/wine").EnsureSucceeded();
        workspace.Run("ln", "-s", ".", "raw/loop").EnsureSucceeded();
        PipelineProject.Create(package.Version).TracedStep("train", "cat raw/iris.csv raw/wine/red.csv > model.txt", inputs: "raw/", outputs: "model.txt").Save(workspace);

        workspace.RunPipeline().EnsureSucceeded().EnsureNoStackTrace();
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train");
        workspace.WriteFile("datasets/wine/red.csv", "rose\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "input raw/wine/red.csv changed");

        Assert.Equal("x,y\nrose\n", workspace.ReadFile("model.txt"));
    }

    [Theory]
    [InlineData("Inputs", "Input")]
    [InlineData("FileDependencies", "File dependency")]
    public void AGlobThatMatchesNoFileIsWarningMLP2010AndTheRunGoesOn(string metadata, string kind)
    {
        using Workspace workspace = Workspace.Create(package, output, $"GlobMatchesNothing{metadata}");
        workspace.WriteFile("data/train.csv", "x,y\n");
        PipelineProject.Create(package.Version)
            .TracedStep("train", "cat data/train.csv > model.txt", outputs: "model.txt", metadata: [new(metadata, "data/train.csv;data/*.parquet")])
            .Save(workspace);
        string expected = $"{kind} glob 'data/*.parquet' of step 'train' matches no file, so the step's key holds no file for it. Check the pattern, or remove it from the step.";

        BuildResult run = workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");
        BuildResult plan = workspace.PlanPipeline().EnsureSucceeded().EnsureLine("train: hit");

        foreach (BuildResult result in new[] { run, plan })
        {
            BuildMessage warning = Assert.Single(result.Warnings);
            Assert.Equal(("MLP2010", expected), (warning.Code, warning.Message));
            Assert.Equal(workspace.GetPath(PipelineRuns.Project), warning.File);
        }

        Assert.Equal(["train"], workspace.Executed());
    }

    [Fact]
    public void AnUpstreamOutputDirectoryCountsAsExistingInARunAndInAPlanEvenWhenEmpty()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .TracedStep("featurize", "mkdir -p features empty && echo f > features/f.csv", outputs: "features/;empty/")
            .TracedStep("train", "ls empty && cat features/f.csv > model.txt", inputs: "features/;empty/", outputs: "model.txt")
            .Save(workspace);

        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("featurize", "no earlier result").EnsureMiss("train", "no earlier result");
        workspace.Delete("features").Delete("empty").Delete("model.txt");

        // featurize's outputs are gone from disk; the plan counts them as restored, the empty directory too, and says so.
        BuildResult plan = workspace.PlanPipeline().EnsureSucceeded();
        plan.EnsureLine("featurize: hit (would restore 2 deleted outputs: features/f.csv, empty/)")
            .EnsureLine("train: hit (would restore 1 deleted output: model.txt)");
        Assert.Empty(plan.Warnings);
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("featurize").EnsureHit("train");
        Assert.True(workspace.DirectoryExists("empty"));
        Assert.Equal(["featurize", "train"], workspace.Executed());
    }

    /// <summary>A pipeline with one valid step, whose marker file shows whether any step ran.</summary>
    private PipelineProject Pipeline() =>
        PipelineProject.Create(package.Version).TracedStep("marker", "echo ran > marker.txt", outputs: "marker.txt");

    private static BuildMessage AssertSingleError(Workspace workspace, BuildResult result, string code)
    {
        BuildMessage error = Assert.Single(result.Errors);
        Assert.True(error.Code == code, $"Expected the error {code}.\n{result}");
        Assert.Equal(workspace.GetPath(PipelineRuns.Project), error.File);
        result.EnsureNoStackTrace();
        return error;
    }

    private static void AssertNothingRan(Workspace workspace, BuildResult result)
    {
        Assert.Empty(workspace.Executed());
        Assert.False(workspace.FileExists("marker.txt"), $"A step ran despite the error.\n{result}");
        Assert.Empty(result.LinesContaining("has started."));
    }
}
