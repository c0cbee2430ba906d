using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// The add-on form in a multi-targeted project (issue 11, item 1): the pipeline belongs to the project, not to one
/// framework, so a build runs it once, in the outer build, before the inner builds; every pipeline target works in the
/// outer build; and a lone inner build (<c>dotnet build -f net10.0</c>) runs it once too.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class MultiTargetingTests(SdkPackage package, ITestOutputHelper output)
{
    // Without the hit rate, which reads "no cacheable steps" for the EnableCache="false" step and "hit rate 0%" otherwise.
    private const string Summary = "Pipeline app: 1 step, 0 cached, 1 executed, ";

    [Fact]
    public void PlainBuildRunsThePipelineOnceBeforeTheInnerBuildsEvaluate()
    {
        using Workspace workspace = Workspace.Create(package, output);
        App(package.Version).Save(workspace, "app.csproj");

        BuildResult result = workspace.Build("app.csproj").EnsureSucceeded();

        // EnableCache="false": each run of the pipeline executes the step, so a second run would show here.
        Assert.Equal(["greeting"], workspace.Executed());
        Assert.Equal(1, result.Lines.Count(line => line.Contains(Summary, StringComparison.Ordinal)));
        foreach (string framework in new[] { "net10.0", PipelineProject.SecondFramework })
        {
            // The project's plain glob saw the step's file: the inner builds evaluated after the pipeline ran.
            Assert.Contains("app.Resources.greeting.txt", ManifestResources(workspace, $"bin/Debug/{framework}/app.dll"));
        }
    }

    [Fact]
    public void EveryPipelineTargetWorksInTheOuterBuild()
    {
        using Workspace workspace = Workspace.Create(package, output);
        App(package.Version, enableCache: true).Save(workspace, "app.csproj");

        // Before issue 11 each of these failed here with MSB4057 (no _TestRunStart target in an outer build).
        EnsureLineContaining(workspace.Build("app.csproj", DotnetRunner.Target("RunPipeline")), Summary);
        EnsureLineContaining(workspace.Build("app.csproj", DotnetRunner.Target("PlanPipeline")), "greeting: hit");
        EnsureLineContaining(workspace.Build("app.csproj", DotnetRunner.Target("ListPipelineRuns")), "Runs of pipeline app (newest first, 1 shown)");
        EnsureLineContaining(workspace.Build("app.csproj", DotnetRunner.Target("PrunePipelineCache")), "Pruned the pipeline cache");
        EnsureLineContaining(workspace.Build("app.csproj", DotnetRunner.Target("ClearPipelineCache")), "Cleared the cache of pipeline app: 1 entry");
        Assert.Equal(["greeting"], workspace.Executed());
        Assert.False(workspace.DirectoryExists("bin"), "Only pipeline targets ran: nothing was compiled.");
    }

    [Fact]
    public void OneFrameworkBuildRunsThePipelineOnceAndGetsItsOutputsAsItems()
    {
        using Workspace workspace = Workspace.Create(package, output);
        App(package.Version)
            .Target(
                "EmbedPipelineOutputs",
                "<ItemGroup><EmbeddedResource Include=\"@(PipelineOutput)\" Condition=\"'%(PipelineOutput.Step)' == 'greeting'\" LogicalName=\"from-items/%(PipelineOutput.Filename)%(PipelineOutput.Extension)\" /></ItemGroup>",
                afterTargets: "RunPipeline")
            .Save(workspace, "app.csproj");

        BuildResult result = workspace.Build("app.csproj", "-f", "net10.0").EnsureSucceeded();

        Assert.Equal(["greeting"], workspace.Executed());
        Assert.Equal(1, result.Lines.Count(line => line.Contains(Summary, StringComparison.Ordinal)));
        Assert.False(workspace.DirectoryExists($"bin/Debug/{PipelineProject.SecondFramework}"), "Only net10.0 was built.");
        // This inner build was evaluated before the pipeline ran, so its glob missed the file; the items did not.
        Assert.Equal(["from-items/greeting.txt"], ManifestResources(workspace, "bin/Debug/net10.0/app.dll"));
    }

    /// <summary>
    /// A multi-targeted app whose one step writes Resources/greeting.txt (and logs its run); the project embeds
    /// Resources/*.txt with a plain glob and runs the pipeline before building.
    /// </summary>
    private static PipelineProject App(string version, bool enableCache = false) =>
        PipelineProject.CreateMultiTargetedAddOn(version)
            .Property("RunPipelineBeforeBuild", "true")
            .TracedStep(
                "greeting",
                "mkdir -p Resources && echo hello > Resources/greeting.txt",
                outputs: "Resources/",
                metadata: enableCache ? null : [new("EnableCache", "false")])
            .Item("EmbeddedResource", "Resources/*.txt");

    private static void EnsureLineContaining(BuildResult result, string text)
    {
        result.EnsureSucceeded();
        Assert.True(result.Lines.Any(line => line.Contains(text, StringComparison.Ordinal)), $"Expected a line containing \"{text}\".\n{result}");
    }

    /// <summary>The names of the manifest resources of an assembly, read from its metadata.</summary>
    internal static IReadOnlyList<string> ManifestResources(Workspace workspace, string assembly)
    {
        Assert.True(workspace.FileExists(assembly), $"{assembly} was not built.");
        using var stream = File.OpenRead(workspace.GetPath(assembly));
        using var pe = new PEReader(stream);
        MetadataReader metadata = pe.GetMetadataReader();
        return metadata.ManifestResources.Select(handle => metadata.GetString(metadata.GetManifestResource(handle).Name)).ToList();
    }
}
