using MLPipelines.Engine.Paths;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Paths;

public sealed class GlobTests
{
    [Theory]
    [InlineData("*.csv", "train.csv", true)]
    [InlineData("*.csv", ".csv", true)]
    [InlineData("*.csv", "data/train.csv", false)]
    [InlineData("*.csv", "train.csv.bak", false)]
    [InlineData("data/*.csv", "data/train.csv", true)]
    [InlineData("data/*.csv", "data/sub/train.csv", false)]
    [InlineData("data/*", "data/x", true)]
    [InlineData("data/*", "data/sub/x", false)]
    [InlineData("data/t*n.csv", "data/train.csv", true)]
    public void StarMatchesWithinOneSegment(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, new Glob(pattern).IsMatch(path));
    }

    [Theory]
    [InlineData("part-?.csv", "part-1.csv", true)]
    [InlineData("part-?.csv", "part-10.csv", false)]
    [InlineData("part-?.csv", "part-.csv", false)]
    [InlineData("a?b", "a/b", false)]
    public void QuestionMarkMatchesOneCharacterExceptSlash(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, new Glob(pattern).IsMatch(path));
    }

    [Theory]
    [InlineData("data/**/*.csv", "data/train.csv", true)]
    [InlineData("data/**/*.csv", "data/a/train.csv", true)]
    [InlineData("data/**/*.csv", "data/a/b/c/train.csv", true)]
    [InlineData("data/**/*.csv", "other/train.csv", false)]
    [InlineData("data/**/*.csv", "data/a/train.txt", false)]
    [InlineData("**/*.cs", "Program.cs", true)]
    [InlineData("**/*.cs", "src/deep/Program.cs", true)]
    [InlineData("data/**", "data/x", true)]
    [InlineData("data/**", "data/a/b/x", true)]
    [InlineData("data/**", "database/x", false)]
    [InlineData("a/**/b/*.txt", "a/b/x.txt", true)]
    [InlineData("a/**/b/*.txt", "a/q/r/b/x.txt", true)]
    [InlineData("a/**/b/*.txt", "a/q/r/c/x.txt", false)]
    public void DoubleStarMatchesAnyNumberOfDirectories(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, new Glob(pattern).IsMatch(path));
    }

    [Theory]
    [InlineData("data.v1/(x)+[y].csv", "data.v1/(x)+[y].csv", true)]
    [InlineData("data.v1/*.csv", "dataXv1/a.csv", false)]
    [InlineData("a+b/*.csv", "aab/x.csv", false)]
    public void OtherCharactersMatchThemselves(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, new Glob(pattern).IsMatch(path));
    }

    [Fact]
    public void MatchingFollowsThePlatformsPathComparison()
    {
        var ignoresCase = ProjectPath.PathComparison == StringComparison.OrdinalIgnoreCase;

        Assert.Equal(ignoresCase, new Glob("data/*.csv").IsMatch("Data/train.CSV"));
    }

    [Theory]
    [InlineData("data/*.csv", "data")]
    [InlineData("data/raw/**/*.csv", "data/raw")]
    [InlineData("*.csv", "")]
    [InlineData("**/*.csv", "")]
    [InlineData("data/part-?/x.csv", "data")]
    [InlineData("data/train.csv", "data")]
    public void TheBaseDirectoryIsTheLeadingPartWithoutWildcards(string pattern, string expected)
    {
        var glob = new Glob(pattern);

        Assert.Equal(expected, glob.BaseDirectory);
        Assert.Equal(pattern, glob.Pattern);
    }

    [Fact]
    public void EnumerateFilesFindsMatchingFilesSortedAndProjectRelative()
    {
        using var project = new TempDirectory();
        foreach (var file in new[] { "data/b.csv", "data/a.csv", "data/sub/c.csv", "data/notes.txt", "top.csv", "datax/d.csv" })
        {
            project.Write(file, file);
        }

        Assert.Equal(["data/a.csv", "data/b.csv"], new Glob("data/*.csv").EnumerateFiles(project.Path));
        Assert.Equal(["data/a.csv", "data/b.csv", "data/sub/c.csv"], new Glob("data/**/*.csv").EnumerateFiles(project.Path));
        Assert.Equal(["data/a.csv", "data/b.csv", "data/sub/c.csv", "datax/d.csv", "top.csv"], new Glob("**/*.csv").EnumerateFiles(project.Path));
        Assert.Equal(["top.csv"], new Glob("*.csv").EnumerateFiles(project.Path));
        Assert.Empty(new Glob("missing/*.csv").EnumerateFiles(project.Path));
    }

    [Fact]
    public void EnumerateFilesIncludesHiddenFiles()
    {
        using var project = new TempDirectory();
        project.Write("data/.hidden.csv", "x");

        Assert.Equal(["data/.hidden.csv"], new Glob("data/*.csv").EnumerateFiles(project.Path));
    }
}
