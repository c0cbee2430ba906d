using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>
/// SPEC "Records": a run records the git commit of the project's repository only when its checkout is clean; the
/// store keeps itself out of git status, and a project outside any repository records no commit without an error.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class GitCommitTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void ACleanCheckoutRecordsHeadAndTheStoreLeavesItClean()
    {
        using Workspace workspace = Workspace.Create(package, output);
        string head = CommitProject(workspace);

        workspace.RunPipeline().EnsureSucceeded();

        Assert.Equal(head, StoreInspector.Of(workspace).LatestRun().GitCommit);
        // The store ignores itself, so neither the run nor the next one sees a dirty checkout because of it.
        Assert.Equal(["*"], workspace.ReadFile(".mlpipelines/.gitignore").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')));
        Assert.Equal("", Git(workspace, "status", "--porcelain", "--untracked-files=all"));

        BuildResult list = workspace.ListRuns().EnsureSucceeded();
        Assert.Equal(head[..12], Assert.Single(list.ListedRuns()).Commit);
    }

    [Fact]
    public void AnUntrackedFileMeansNoCommit()
    {
        using Workspace workspace = Workspace.Create(package, output);
        CommitProject(workspace);
        workspace.WriteFile("notes.txt", "not committed\n");

        workspace.RunPipeline().EnsureSucceeded();

        Assert.Null(StoreInspector.Of(workspace).LatestRun().GitCommit);
    }

    [Fact]
    public void AModifiedTrackedFileMeansNoCommit()
    {
        using Workspace workspace = Workspace.Create(package, output);
        CommitProject(workspace);
        workspace.WriteFile("raw.txt", "changed, not committed\n");

        workspace.RunPipeline().EnsureSucceeded();

        Assert.Null(StoreInspector.Of(workspace).LatestRun().GitCommit);
    }

    [Fact]
    public void ATouchedTrackedFileMeansNoCommitUntilTheUsersGitStatusRefreshesTheIndex()
    {
        using Workspace workspace = Workspace.Create(package, output);
        string head = CommitProject(workspace);
        // Same bytes, new stat data. The run's git never re-reads the file to find it unchanged (a 1 GiB input took
        // seconds on the critical path): stat-dirty counts as a change, and the run leaves git's index alone.
        File.SetLastWriteTimeUtc(workspace.GetPath("raw.txt"), File.GetLastWriteTimeUtc(workspace.GetPath("raw.txt")).AddHours(-1));

        workspace.RunPipeline().EnsureSucceeded();
        Assert.Null(StoreInspector.Of(workspace).LatestRun().GitCommit);

        Assert.Equal("", Git(workspace, "status", "--porcelain", "--untracked-files=all"));
        workspace.RunPipeline().EnsureSucceeded();
        Assert.Equal(head, StoreInspector.Of(workspace).LatestRun().GitCommit);
    }

    [Fact]
    public void NoRepositoryMeansNoCommitAndNoError()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveProject(workspace);
        Assert.False(workspace.Run("git", "rev-parse", "--git-dir").Succeeded, "The workspace must not be inside a git repository for this test.");

        BuildResult result = workspace.RunPipeline().EnsureSucceeded();

        Assert.Null(StoreInspector.Of(workspace).LatestRun().GitCommit);
        Assert.Empty(result.Errors);
        Assert.Empty(result.Warnings);
    }

    private void SaveProject(Workspace workspace)
    {
        workspace.WriteFile("raw.txt", "raw data\n");
        PipelineProject.Create(package.Version)
            .Step("copy", "cp raw.txt out.txt", inputs: "raw.txt", outputs: "out.txt")
            .Save(workspace);
    }

    /// <summary>A repository at the project folder with everything committed; step outputs are the user's to ignore.</summary>
    private string CommitProject(Workspace workspace)
    {
        SaveProject(workspace);
        workspace.WriteFile(".gitignore", "out.txt\n");
        Git(workspace, "init", "--quiet");
        Git(workspace, "config", "user.name", "End-to-end test");
        Git(workspace, "config", "user.email", "e2e@example.invalid");
        Git(workspace, "config", "commit.gpgsign", "false");
        Git(workspace, "add", "--all");
        Git(workspace, "commit", "--quiet", "-m", "pipeline");
        Assert.Equal("", Git(workspace, "status", "--porcelain", "--untracked-files=all"));
        return Git(workspace, "rev-parse", "HEAD");
    }

    private static string Git(Workspace workspace, params string[] arguments) =>
        workspace.Run("git", arguments).EnsureSucceeded().Output.Trim();
}
