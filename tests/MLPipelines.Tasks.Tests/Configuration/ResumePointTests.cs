using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;

namespace MLPipelines.Tasks.Tests.Configuration;

/// <summary><c>PipelineResumeFrom</c> read as the other step properties: separators, spaces and empty items.</summary>
public sealed class ResumePointTests
{
    [Theory]
    [InlineData("train", "train", null)]
    [InlineData(" train ; ", "train", null)]
    [InlineData(",train,,", "train", null)]
    [InlineData("20261130-175034-f64917 : train;", "train", "20261130-175034-f64917")]
    [InlineData("train;TRAIN", "train", null)]
    public void OnePointWithSpacesAndEmptyItemsIsThatPoint(string text, string step, string? run)
    {
        var diagnostics = new List<PipelineDiagnostic>();

        var point = ResumePoint.Parse(text, diagnostics);

        Assert.Empty(diagnostics);
        Assert.Equal(new ResumePoint(step, run), point);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ; , ")]
    public void NoPointIsNoResume(string text)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        Assert.Null(ResumePoint.Parse(text, diagnostics));
        Assert.Empty(diagnostics);
    }

    [Theory]
    [InlineData("train,evaluate")]
    [InlineData("train;evaluate")]
    public void TwoPointsAreMLP1014(string text)
    {
        var diagnostics = new List<PipelineDiagnostic>();

        Assert.Null(ResumePoint.Parse(text, diagnostics));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(ErrorCodes.InvalidProperty, diagnostic.Code);
        Assert.Contains($"PipelineResumeFrom='{text}'", diagnostic.Message, StringComparison.Ordinal);
    }
}
