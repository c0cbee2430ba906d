using System.Runtime.Versioning;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Store;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// What <c>RunPipeline</c> returns as <c>@(PipelineOutput)</c> (issue 11): one item per output file of each step that
/// executed or was restored, a directory output giving every file below it, tagged with the step's name.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell, and one test makes symbolic links.
public sealed class RunOutputFilesTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    private TempDirectory Project => _pipeline.Project;

    private List<(string Step, string Path)> Relative(IEnumerable<StepOutputFile> files) =>
        files.Select(f => (f.Step, Path.GetRelativePath(Project.Path, f.FullPath).Replace('\\', '/'))).ToList();

    [Fact]
    public async Task ExecutedAndRestoredStepsGiveEveryFileBelowTheirOutputsTaggedWithTheStep()
    {
        _pipeline
            .Step("prepare", "printf a > data.txt", ("Outputs", "data.txt"))
            .Step("train", "mkdir -p model/sub model/empty && printf w > model/weights.bin && printf c > model/sub/config.json", ("Inputs", "data.txt"), ("Outputs", "model/"));

        var first = await _pipeline.RunAsync();
        Directory.Delete(Project.Combine("model"), recursive: true);
        var second = await _pipeline.RunAsync();

        second.AssertOutcome("prepare", StepOutcome.Cached).AssertOutcome("train", StepOutcome.Cached);
        (string, string)[] expected = [("prepare", "data.txt"), ("train", "model/sub/config.json"), ("train", "model/weights.bin")];
        Assert.Equal(expected, Relative(RunOutputFiles.Of(_pipeline.Options(), _pipeline.Graph(), first.Result)));
        // After a hit the files listed are the restored ones: the directory was gone before the second run.
        Assert.Equal(expected, Relative(RunOutputFiles.Of(_pipeline.Options(), _pipeline.Graph(), second.Result)));
        Assert.All(RunOutputFiles.Of(_pipeline.Options(), _pipeline.Graph(), second.Result), f => Assert.True(Path.IsPathRooted(f.FullPath)));
    }

    [Fact]
    public async Task AFailedStepAndTheStepsThatDidNotRunGiveNoFiles()
    {
        _pipeline
            .Step("good", "printf ok > good.txt", ("Outputs", "good.txt"))
            .Step("bad", "printf partial > bad.txt; exit 3", ("Outputs", "bad.txt"))
            .Step("after", "printf x > after.txt", ("DependsOn", "bad"), ("Outputs", "after.txt"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("bad", StepOutcome.Failed).AssertOutcome("after", StepOutcome.NotRun);
        Assert.True(Project.Exists("bad.txt"));
        Assert.Equal([("good", "good.txt")], Relative(RunOutputFiles.Of(_pipeline.Options(), _pipeline.Graph(), run.Result)));
    }

    [Fact]
    public async Task ACacheDisabledStepGivesItsFilesToo()
    {
        _pipeline.Step("notify", "printf sent > sent.txt", ("Outputs", "sent.txt"), ("EnableCache", "false"));

        var run = await _pipeline.RunAsync(options => options with { CacheOverride = false });

        run.AssertOutcome("notify", StepOutcome.Executed);
        Assert.Equal([("notify", "sent.txt")], Relative(RunOutputFiles.Of(_pipeline.Options(), _pipeline.Graph(), run.Result)));
    }

    [Fact]
    public void ListGivesFilesAndLinksToFilesButNotFoldersDanglingOrLoopingLinksOrTheStore()
    {
        Project.Write("out/a.txt", "a");
        Project.Write("out/.mlpipelines/cache.db", "store");
        Project.Write("elsewhere/b.txt", "b");
        Directory.CreateDirectory(Project.Combine("out/empty"));
        File.CreateSymbolicLink(Project.Combine("out/link-to-file"), "a.txt");
        File.CreateSymbolicLink(Project.Combine("out/dangling"), "missing.txt");
        Directory.CreateSymbolicLink(Project.Combine("out/linked-dir"), "../elsewhere");
        File.CreateSymbolicLink(Project.Combine("out/loop1"), "loop2");
        File.CreateSymbolicLink(Project.Combine("out/loop2"), "loop1");

        var files = OutputFiles.List(Project.Path, ["out/", "out/a.txt", "absent.txt"], excluded: "out/.mlpipelines");

        Assert.Equal(
            ["out/a.txt", "out/link-to-file"],
            files.Select(f => Path.GetRelativePath(Project.Path, f).Replace('\\', '/')));
    }
}
