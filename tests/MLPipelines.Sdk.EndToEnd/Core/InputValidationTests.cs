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
