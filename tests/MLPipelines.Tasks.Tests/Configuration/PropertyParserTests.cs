using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;

namespace MLPipelines.Tasks.Tests.Configuration;

public sealed class PropertyParserTests
{
    private readonly List<PipelineDiagnostic> _diagnostics = [];

    [Theory]
    [InlineData("true", true)]
    [InlineData(" False ", false)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void BooleansParse(string? text, bool? expected)
    {
        Assert.Equal(expected, PropertyParser.ParseBool(text, "EnablePipelineCache", _diagnostics));
        Assert.Empty(_diagnostics);
    }

    [Theory]
    [InlineData("4", 4)]
    [InlineData(" 16 ", 16)]
    [InlineData("", null)]
    public void PositiveIntegersParse(string? text, int? expected)
    {
        Assert.Equal(expected, PropertyParser.ParsePositiveInt(text, "PipelineMaxParallelism", _diagnostics));
        Assert.Empty(_diagnostics);
    }

    [Theory]
    [InlineData("+4")]
    [InlineData("-4")]
    [InlineData("4.0")]
    [InlineData("1,000")]
    [InlineData("0")]
    [InlineData("00")]
    public void ACountIsDigitsOnlyAsSizesAndDurationsTakeNoSign(string text)
    {
        // A count (PipelineMaxParallelism, PipelineRunHistoryLimit, PipelineRunsLimit) takes the forms a size's number
        // takes, without a unit or a fraction: no sign, as "+5M" and "-1h" are refused.
        Assert.Null(PropertyParser.ParsePositiveInt(text, "PipelineRunHistoryLimit", _diagnostics));
        var diagnostic = Assert.Single(_diagnostics);
        Assert.Equal($"Property PipelineRunHistoryLimit='{text}' is not valid: give a whole number of 1 or more (digits only: 4, 1000).", diagnostic.Message);
    }

    [Theory]
    [InlineData("86400", 86400.0)]
    [InlineData("28.00:00:00", 28 * 86400.0)]
    [InlineData("", null)]
    public void DurationsParse(string? text, double? seconds)
    {
        Assert.Equal(seconds is null ? null : TimeSpan.FromSeconds(seconds.Value), PropertyParser.ParseDuration(text, "PipelineCacheMaxAge", _diagnostics));
        Assert.Empty(_diagnostics);
    }

    [Theory]
    [InlineData("1", 1.0)]
    [InlineData("0.5", 0.5)]
    [InlineData("0", 0.0)]
    [InlineData("00:00:00", 0.0)]
    [InlineData("1.00:00:00", 86400.0)]
    public void ATimeoutMayBeZero(string text, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), PropertyParser.ParseDuration(text, "PipelineLockTimeout", _diagnostics, allowZero: true));
        Assert.Empty(_diagnostics);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("soon")]
    public void AnAgeMayNotBeZeroAndATimeoutNotNegative(string text)
    {
        Assert.Null(PropertyParser.ParseDuration(text, "PipelineCacheMaxAge", _diagnostics));
        if (text != "0")
        {
            Assert.Null(PropertyParser.ParseDuration(text, "PipelineLockTimeout", _diagnostics, allowZero: true));
            Assert.Equal($"Property PipelineLockTimeout='{text}' is not valid: give a duration (0 or more): {Quantity.DurationForms}.", _diagnostics[^1].Message);
        }

        Assert.All(_diagnostics, d => Assert.Equal(ErrorCodes.InvalidProperty, d.Code));
    }

    [Theory]
    [InlineData("1024", 1024L)]
    [InlineData("500MB", 500L << 20)]
    [InlineData("10gb", 10L << 30)]
    [InlineData("1.5TB", 3L << 39)]
    [InlineData("2 KB", 2048L)]
    [InlineData("7B", 7L)]
    [InlineData("", null)]
    public void SizesParseWith1024BasedUnits(string? text, long? expected)
    {
        Assert.Equal(expected, PropertyParser.ParseSize(text, "PipelineCacheMaxSize", _diagnostics));
        Assert.Empty(_diagnostics);
    }

    [Fact]
    public void BadValuesAreMLP1014NamingTheProperty()
    {
        Assert.Null(PropertyParser.ParseBool("yes", "EnablePipelineCache", _diagnostics));
        Assert.Null(PropertyParser.ParsePositiveInt("0", "PipelineMaxParallelism", _diagnostics));
        Assert.Null(PropertyParser.ParsePositiveInt("many", "PipelineMaxParallelism", _diagnostics));
        Assert.Null(PropertyParser.ParseDuration("forever", "PipelineCacheMaxAge", _diagnostics));
        Assert.Null(PropertyParser.ParseSize("-1", "PipelineCacheMaxSize", _diagnostics));
        Assert.Null(PropertyParser.ParseSize("10XB", "PipelineCacheMaxSize", _diagnostics));
        Assert.Null(PropertyParser.ParseSize("1e30GB", "PipelineCacheMaxSize", _diagnostics));

        Assert.All(_diagnostics, d => Assert.Equal(ErrorCodes.InvalidProperty, d.Code));
        Assert.Equal(
            ["EnablePipelineCache", "PipelineMaxParallelism", "PipelineMaxParallelism", "PipelineCacheMaxAge", "PipelineCacheMaxSize", "PipelineCacheMaxSize", "PipelineCacheMaxSize"],
            _diagnostics.Select(d => d.Message.Split('=')[0].Replace("Property ", "", StringComparison.Ordinal)));
    }
}
