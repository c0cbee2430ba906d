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

    [Fact]
    public void AMissingFileIsFlagged()
    {
        Assert.Empty(Expand("raw/missing.csv", expectMissing: true));
    }

    [Fact]
    public void AnEmptyOrMissingDirectoryAndAnUnmatchedGlobAreEmptyNotMissing()
    {
        _project.Subdirectory("empty");

        Assert.Empty(Expand("empty/"));
        Assert.Empty(Expand("nowhere/"));
        Assert.Empty(Expand("raw/*.parquet"));
    }

    [Fact]
    public void AFileDeclaredAsADirectoryIsNotTakenForAFile()
    {
        Assert.Empty(Expand("config.json/"));
    }
}
