using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// SPEC "Change detection": a remembered hash is trusted only while size, modification time, change time, inode and
/// device all match, and a symbolic link is followed with its own part counted. Each test first lets the input's
/// stamp be kept (it must be older than the 2 s racy window when hashed, and the test checks it is in
/// <c>file_stamps</c>), then changes the content in a way that fools a size + modification time check.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class StampTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void ARewriteWithTheSameSizeAndModificationTimeIsSeen()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("raw/in.txt", "abc");
        Sh(workspace, "touch -d 2024-01-01 raw/in.txt");
        SaveUpperPipeline(workspace, "raw/in.txt");
        FirstBuildKeepsTheStamp(workspace, "raw/in.txt");
        DateTime written = workspace.GetLastWriteTimeUtc("raw/in.txt");

        Sh(workspace, "printf xyz > raw/in.txt && touch -d 2024-01-01 raw/in.txt");

        Assert.Equal(written, workspace.GetLastWriteTimeUtc("raw/in.txt"));
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("upper", "input raw/in.txt changed");
        Assert.Equal("XYZ", workspace.ReadFile("out.txt"));
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("upper");
        Assert.Equal("XYZ", workspace.ReadFile("out.txt"));
    }

    [Fact]
    public void AChangedTargetOfALinkedInputIsSeen()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("real/data.txt", "abc");
        Sh(workspace, "touch -d 2024-01-01 real/data.txt && mkdir -p raw && ln -s ../real/data.txt raw/link.txt");
        SaveUpperPipeline(workspace, "raw/link.txt");
        FirstBuildKeepsTheStamp(workspace, "raw/link.txt");

        Sh(workspace, "printf xyz > real/data.txt && touch -d 2024-01-01 real/data.txt");

        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("upper", "input raw/link.txt changed");
        Assert.Equal("XYZ", workspace.ReadFile("out.txt"));
    }

    [Fact]
    public void ARetargetedInputLinkIsSeen()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("real/a.txt", "abc").WriteFile("real/b.txt", "xyz");
        Sh(workspace, "touch -d 2024-01-01 real/a.txt real/b.txt && mkdir -p raw && ln -s ../real/a.txt raw/link.txt");
        SaveUpperPipeline(workspace, "raw/link.txt");
        FirstBuildKeepsTheStamp(workspace, "raw/link.txt");

        // Both targets have the same size and modification time.
        Sh(workspace, "ln -sfn ../real/b.txt raw/link.txt");

        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("upper", "input raw/link.txt changed");
        Assert.Equal("XYZ", workspace.ReadFile("out.txt"));
    }

    [Fact]
    public void ACopyThatPreservesTheModificationTimeIsSeen()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("raw/in.txt", "abc").WriteFile("elsewhere/other.txt", "xyz");
        Sh(workspace, "touch -d 2024-01-01 raw/in.txt elsewhere/other.txt");
        SaveUpperPipeline(workspace, "raw/in.txt");
        FirstBuildKeepsTheStamp(workspace, "raw/in.txt");

        Sh(workspace, "cp -p elsewhere/other.txt raw/in.txt");

        Assert.Equal(workspace.GetLastWriteTimeUtc("elsewhere/other.txt"), workspace.GetLastWriteTimeUtc("raw/in.txt"));
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("upper", "input raw/in.txt changed");
        Assert.Equal("XYZ", workspace.ReadFile("out.txt"));
    }

    /// <summary>
    /// The racy window is judged at the moment the file was hashed, not at the end of the run: the input is rewritten
    /// (same bytes, so its step hits) just before a build in which an independent step then runs 3 s, longer than the
    /// window. A hit is not checked again after it, so only the hash-time rule keeps the stamp out.
    /// </summary>
    [Fact]
    public void AnInputChangedJustBeforeItWasHashedIsNotKeptEvenWhenTheRunEndsLater()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .TracedStep("upper", "tr a-z A-Z < raw/in.txt > out.txt", inputs: "raw/in.txt", outputs: "out.txt")
            .Step("slow", "sleep 3", metadata: [new("EnableCache", "false")])
            .Save(workspace);
        workspace.WriteFile("raw/in.txt", "abc");
        workspace.RunPipeline().EnsureSucceeded();
        var store = StoreInspector.Of(workspace);
        store.Execute("DELETE FROM file_stamps");

        workspace.WriteFile("raw/in.txt", "abc");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("upper");

        Assert.DoesNotContain(store.FileStampPaths(), path => path.EndsWith("/raw/in.txt", StringComparison.Ordinal));
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("upper");
        Assert.Contains(store.FileStampPaths(), path => path.EndsWith("/raw/in.txt", StringComparison.Ordinal));
    }

    /// <summary>The "already in place" check of a hit uses the same stamp: an edited output is restored.</summary>
    [Fact]
    public void AnOutputRewrittenWithTheSameSizeAndModificationTimeIsRestoredOnAHit()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("raw/in.txt", "abc");
        SaveUpperPipeline(workspace, "raw/in.txt");
        workspace.RunPipeline().EnsureSucceeded();
        Sh(workspace, "touch -d 2024-01-01 out.txt");
        Thread.Sleep(TimeSpan.FromSeconds(2.5));
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("upper");
        Assert.Contains(StoreInspector.Of(workspace).FileStampPaths(), path => path.EndsWith("/out.txt", StringComparison.Ordinal));
        DateTime written = workspace.GetLastWriteTimeUtc("out.txt");

        Sh(workspace, "printf QQQ > out.txt && touch -d 2024-01-01 out.txt");

        Assert.Equal(written, workspace.GetLastWriteTimeUtc("out.txt"));
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("upper").EnsureLine("Restored 1 output file of upper from the cache.");
        Assert.Equal("ABC", workspace.ReadFile("out.txt"));
        Assert.Equal(["upper"], workspace.Executed());
    }

    private void SaveUpperPipeline(Workspace workspace, string input) =>
        PipelineProject.Create(package.Version)
            .TracedStep("upper", $"tr a-z A-Z < {input} > out.txt", inputs: input, outputs: "out.txt")
            .Save(workspace);

    /// <summary>
    /// Runs the first build once the input is past the racy window, and checks it kept the input's stamp: the stamp
    /// the change that follows must not fool.
    /// </summary>
    private static void FirstBuildKeepsTheStamp(Workspace workspace, string input)
    {
        Thread.Sleep(TimeSpan.FromSeconds(2.5));
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("upper", "no earlier result");
        Assert.Equal("ABC", workspace.ReadFile("out.txt"));
        Assert.Contains(StoreInspector.Of(workspace).FileStampPaths(), path => path.EndsWith("/" + input, StringComparison.Ordinal));
    }

    private static void Sh(Workspace workspace, string command) => workspace.Run("/bin/sh", "-c", command).EnsureSucceeded();
}
