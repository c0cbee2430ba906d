using MLPipelines.Engine.Paths;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Paths;

public sealed class ProjectPathTests : IDisposable
{
    private readonly TempDirectory _project = new();

    public void Dispose() => _project.Dispose();

    [Theory]
    [InlineData("./a/../b.csv", "b.csv")]
    [InlineData("a\\b\\c.txt", "a/b/c.txt")]
    [InlineData("model/", "model/")]
    [InlineData("model\\", "model/")]
    [InlineData("./model//", "model/")]
    [InlineData(".", "")]
    [InlineData("", "")]
    public void PathsInsideTheProjectBecomeRelativeWithSlashes(string raw, string expected)
    {
        Assert.True(ProjectPath.TryNormalize(_project.Path, raw, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Fact]
    public void AnAbsolutePathInsideTheProjectBecomesRelative()
    {
        Assert.True(ProjectPath.TryNormalize(_project.Path, _project.Combine("data/x.csv"), out var normalized));
        Assert.Equal("data/x.csv", normalized);
    }

    [Fact]
    public void APathLeavingTheProjectIsRelativeWithDotDot()
    {
        Assert.False(ProjectPath.TryNormalize(_project.Path, "../elsewhere/./x/", out var normalized));
        Assert.Equal("../elsewhere/x/", normalized);
    }

    [Fact]
    public void ASiblingDirectoryWithTheProjectNameAsPrefixIsOutside()
    {
        Assert.False(ProjectPath.TryNormalize(_project.Path, _project.Path + "-other/x.csv", out _));
    }

    [Theory]
    [InlineData("data/x.csv", "data/", true)]
    [InlineData("data/x.csv", "data", true)]
    [InlineData("data/", "data/", true)]
    [InlineData("data", "data/", true)]
    [InlineData("database/x.csv", "data/", false)]
    [InlineData("data/x.csv", "data/x", false)]
    [InlineData("anything", "", true)]
    public void IsUnderComparesWholeSegments(string path, string directory, bool expected)
    {
        Assert.Equal(expected, ProjectPath.IsUnder(path, directory));
    }

    [Fact]
    public void OverlapsIsSymmetric()
    {
        Assert.True(ProjectPath.Overlaps("data/", "data/x.csv"));
        Assert.True(ProjectPath.Overlaps("data/x.csv", "data/"));
        Assert.False(ProjectPath.Overlaps("data/x.csv", "data/y.csv"));
    }

    [Fact]
    public void FullAndRelativeFormsRoundTrip()
    {
        var full = ProjectPath.ToFull(_project.Path, "model/");

        Assert.Equal(Path.Combine(_project.Path, "model"), full);
        Assert.Equal("model", ProjectPath.FromFull(_project.Path, full));
    }
}
