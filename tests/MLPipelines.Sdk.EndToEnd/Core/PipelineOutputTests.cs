using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// <c>@(PipelineOutput)</c> (issue 11, item 2): RunPipeline returns the output files of every step that executed or was
/// restored, metadata <c>Step</c>, so an add-on project embeds or copies what its steps made on the first, clean build,
/// which a glob (expanded before any step runs) cannot. The README's recipe, built for real.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class PipelineOutputTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void ACleanBuildEmbedsAndCopiesTheStepsOutputsThroughTheRecipe()
    {
        using Workspace workspace = Workspace.Create(package, output);
        App(package.Version).Save(workspace, "app.csproj");

        BuildResult result = workspace.Build("app.csproj").EnsureSucceeded();

        // Independent steps run in parallel: either may start first.
        Assert.Equal(["features", "model"], workspace.Executed().Order(StringComparer.Ordinal));
        AssertBuilt(workspace, result);
    }

    [Fact]
    public void OutputsRestoredFromTheCacheAreItemsToo()
    {
        using Workspace workspace = Workspace.Create(package, output);
        App(package.Version).Save(workspace, "app.csproj");
        workspace.Build("app.csproj").EnsureSucceeded();
        workspace.Delete("bin").Delete("obj").Delete("Resources").Delete("model");
        workspace.ClearExecuted();

        BuildResult result = workspace.Build("app.csproj").EnsureSucceeded();

        Assert.Empty(workspace.Executed());
        Assert.Contains(result.Lines, line => line.Contains("Using cached version of model.", StringComparison.Ordinal));
        AssertBuilt(workspace, result);
    }

    [Fact]
    public void TheRecipeBuildsAgainWhenTheOutputsAreAlreadyThere()
    {
        using Workspace workspace = Workspace.Create(package, output);
        App(package.Version).Save(workspace, "app.csproj");
        workspace.Build("app.csproj").EnsureSucceeded();

        // Now the SDK's own None glob finds model/ at evaluation too: the recipe's metadata is qualified
        // (%(PipelineOutput.Step)), so MSBuild does not ask the glob's items for a Step they lack (MSB4096).
        BuildResult result = workspace.Build("app.csproj").EnsureSucceeded();

        Assert.Contains(result.Lines, line => line.Contains("Pipeline app: 2 steps, 2 cached", StringComparison.Ordinal));
        AssertBuilt(workspace, result);
    }

    private static void AssertBuilt(Workspace workspace, BuildResult result)
    {
        // The glob Resources/*.txt of the project saw nothing at evaluation; the recipe's items did.
        Assert.Equal(["features.txt"], MultiTargetingTests.ManifestResources(workspace, "bin/Debug/net10.0/app.dll"));
        Assert.Equal("weights\n", workspace.ReadFile("bin/Debug/net10.0/model/weights.bin"));
        Assert.Equal("config\n", workspace.ReadFile("bin/Debug/net10.0/model/sub/config.json"));
        Assert.Contains(result.Lines, line => line.Trim() == "PipelineOutput: features.txt (features)");
    }

    /// <summary>
    /// An app whose step "features" writes Resources/features.txt and whose step "model" writes a folder; the README's
    /// recipe embeds the first and copies the second to the output folder, keeping the paths below the project.
    /// </summary>
    private static PipelineProject App(string version) =>
        PipelineProject.CreateAddOn(version)
            .Property("RunPipelineBeforeBuild", "true")
            .TracedStep("features", "mkdir -p Resources && echo features > Resources/features.txt", outputs: "Resources/")
            .TracedStep("model", "mkdir -p model/sub && echo weights > model/weights.bin && echo config > model/sub/config.json", outputs: "model/")
            .Target(
                "AddPipelineOutputs",
                """
                <ItemGroup>
                  <EmbeddedResource Include="@(PipelineOutput)" Condition="'%(PipelineOutput.Step)' == 'features'" LogicalName="%(PipelineOutput.Filename)%(PipelineOutput.Extension)" />
                  <None Include="@(PipelineOutput)" Condition="'%(PipelineOutput.Step)' == 'model'" Link="$([MSBuild]::MakeRelative('$(MSBuildProjectDirectory)', '%(PipelineOutput.FullPath)'))" CopyToOutputDirectory="PreserveNewest" />
                </ItemGroup>
                <Message Importance="high" Text="PipelineOutput: %(PipelineOutput.Filename)%(PipelineOutput.Extension) (%(PipelineOutput.Step))" Condition="'%(PipelineOutput.Step)' == 'features'" />
                """,
                afterTargets: "RunPipeline");
}
