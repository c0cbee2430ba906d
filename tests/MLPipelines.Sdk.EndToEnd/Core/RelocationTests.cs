using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// Keys are relocatable (SPEC "<c>&lt;Step&gt;</c> metadata": project-relative paths with '/' separators): the same
/// pipeline in another folder, sharing one store, reuses every result, including steps whose inputs are a glob or a
/// directory.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class RelocationTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void TheSamePipelineInAnotherFolderReusesEveryResultFromASharedStore()
    {
        using Workspace workspace = Workspace.Create(package, output);
        string sharedStore = Path.Combine(workspace.Root, "shared-store");
        string storeArgument = DotnetRunner.Property("PipelineCacheDir", sharedStore);
        workspace.WriteFile("raw/a.csv", "a\n1\n").WriteFile("raw/b.csv", "b\n2\n").WriteFile("raw/notes.txt", "n\n");
        workspace.WriteFile("config/nested/params.txt", "depth=3\n");
        PipelineProject.Create(package.Version)
            .TracedStep("merge", "mkdir -p data && cat raw/a.csv raw/b.csv > data/merged.csv", inputs: "raw/*.csv", outputs: "data/merged.csv")
            .TracedStep("configure", "cat config/nested/params.txt > settings.txt", inputs: "config/", outputs: "settings.txt")
            .TracedStep("train", "mkdir -p model && cat data/merged.csv settings.txt > model/weights.txt", inputs: "data/merged.csv;settings.txt", outputs: "model/")
            .Save(workspace);
        workspace.RunPipeline(storeArgument).EnsureSucceeded();
        Assert.Equal(["configure", "merge", "train"], workspace.Executed().Order(StringComparer.Ordinal));
        byte[] weights = workspace.ReadBytes("model/weights.txt");

        Workspace moved = workspace.CopyTo("elsewhere/deeper/project");
        moved.ClearExecuted();
        moved.Delete("data").Delete("settings.txt").Delete("model");
        BuildResult result = moved.RunPipeline(storeArgument).EnsureSucceeded();

        result.EnsureHit("merge").EnsureHit("configure").EnsureHit("train");
        Assert.Equal("Pipeline pipeline: 3 steps, 3 cached, 0 executed, hit rate 100%", result.Summary());
        Assert.Empty(moved.Executed());
        Assert.Equal(weights, moved.ReadBytes("model/weights.txt"));
        Assert.False(moved.DirectoryExists(".mlpipelines"), "The moved project should use the shared store only.");
    }
}
