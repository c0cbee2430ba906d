using MLPipelines.Engine.Paths;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Paths;

public sealed class InputFilesTests : IDisposable
{
    private readonly TempDirectory _project = new();

    public InputFilesTests()
    {
        foreach (var file in new[] { "raw/iris.csv", "raw/extra/wine.csv", "raw/readme.txt", "config.json" })
        {
            _project.Write(file, file);
        }
    }

    public void Dispose() => _project.Dispose();

    private IReadOnlyList<string> Expand(string declared, bool expectMissing = false)
    {
        var files = InputFiles.Expand(_project.Path, declared, out var missing);
        Assert.Equal(expectMissing, missing);
        return files;
    }

    [Fact]
    public void AFileIsItself()
    {
        Assert.Equal(["raw/iris.csv"], Expand("raw/iris.csv"));
        Assert.Equal(["config.json"], Expand("config.json"));
    }

    [Fact]
    public void ADirectoryIsEveryFileBelowItSorted()
    {
        Assert.Equal(["raw/extra/wine.csv", "raw/iris.csv", "raw/readme.txt"], Expand("raw/"));
    }

    [Fact]
    public void ADirectoryWrittenWithoutTrailingSlashIsStillExpanded()
    {
        Assert.Equal(["raw/extra/wine.csv", "raw/iris.csv", "raw/readme.txt"], Expand("raw"));
    }

    [Fact]
    public void AGlobIsEveryMatchingFile()
    {
        Assert.Equal(["raw/iris.csv"], Expand("raw/*.csv"));
        Assert.Equal(["raw/extra/wine.csv", "raw/iris.csv"], Expand("raw/**/*.csv"));
    }

    [Theory]
    [InlineData("raw/missing.csv")]
    [InlineData("nowhere/")]
    [InlineData("nowhere")]
    [InlineData("config.json/")]
    public void AMissingFileOrDirectoryIsFlagged(string declared)
    {
        // A directory is no more optional than a file: expanding to nothing would hash nothing and hide the mistake.
        Assert.Empty(Expand(declared, expectMissing: true));
    }

    [Fact]
    public void AnEmptyDirectoryAndAnUnmatchedGlobAreEmptyNotMissing()
    {
        _project.Subdirectory("empty");

        Assert.Empty(Expand("empty/"));
        Assert.Empty(Expand("raw/*.parquet"));
        Assert.Empty(Expand("nowhere/*.csv"));
    }

    [Fact]
    public void VirtualFilesOfAMissingDirectoryMakeItExist()
    {
        var files = InputFiles.Expand(_project.Path, "model/", out var missing, ["model/w.bin", "model/sub/c.json", "other/x.bin"]);

        Assert.False(missing);
        Assert.Equal(["model/sub/c.json", "model/w.bin"], files);
    }

    [Theory]
    [InlineData("model/")]
    [InlineData("model")]
    [InlineData("out/")]
    public void ARestoredDirectoryExistsEvenEmptyAndIsNoFile(string declared)
    {
        // "model/" and "out/sub/" are directories a plan expects restored, with no file in them.
        var files = InputFiles.Expand(_project.Path, declared, out var missing, ["model/", "out/sub/"]);

        Assert.False(missing);
        Assert.Empty(files);
    }

    [Fact]
    public void ARestoredDirectoryBelowADeclaredOneDoesNotMakeItsSiblingsExist()
    {
        Assert.Empty(InputFiles.Expand(_project.Path, "out/other/", out var missing, ["out/sub/"]));
        Assert.True(missing);
    }

    [Fact]
    public void ARestoredDirectoryIsNeverMatchedByAGlob()
    {
        Assert.Empty(InputFiles.Expand(_project.Path, "model/*", out var missing, ["model/"]));
        Assert.False(missing);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void ALinkToAFolderIsFollowedButALoopOfLinksIsEnteredOnce()
    {
        _project.Write("datasets/wine/red.csv", "red");
        File.CreateSymbolicLink(_project.Combine("raw/linked"), "../datasets/wine");
        File.CreateSymbolicLink(_project.Combine("raw/loop"), ".");
        File.CreateSymbolicLink(_project.Combine("raw/extra/up"), "..");

        Assert.Equal(["raw/extra/wine.csv", "raw/iris.csv", "raw/linked/red.csv", "raw/readme.txt"], Expand("raw/"));
        Assert.Equal(["raw/extra/wine.csv", "raw/iris.csv", "raw/linked/red.csv"], Expand("raw/**/*.csv"));
    }

    [Fact]
    public void TheStoreIsNeverEnteredNeitherByAGlobNorThroughALinkUpToTheProject()
    {
        _project.Write(".mlpipelines/cache.db", "changes while the build runs");
        _project.Write(".mlpipelines/objects/ab/abcd", "an object");
        File.CreateSymbolicLink(_project.Combine("raw/up"), "..");
        var store = _project.Combine(".mlpipelines");

        var throughLink = InputFiles.Expand(_project.Path, "raw/", out _, skippedFolder: store);
        var glob = InputFiles.Expand(_project.Path, "**/*", out _, skippedFolder: store);

        Assert.DoesNotContain(throughLink, f => f.Contains(".mlpipelines", StringComparison.Ordinal));
        Assert.Contains("raw/up/config.json", throughLink);
        Assert.DoesNotContain(glob, f => f.Contains(".mlpipelines", StringComparison.Ordinal));
        Assert.Contains("config.json", glob);
    }

    [Fact]
    public void AStoreOutsideTheProjectLinkedInAsAnInputFolderIsNotEntered()
    {
        using var shared = new TempDirectory();
        shared.Write("cache.db", "store");
        File.CreateSymbolicLink(_project.Combine("raw/cache"), shared.Path);

        var files = InputFiles.Expand(_project.Path, "raw/", out _, skippedFolder: shared.Path + "/");

        Assert.Equal(["raw/extra/wine.csv", "raw/iris.csv", "raw/readme.txt"], files);
    }
}
