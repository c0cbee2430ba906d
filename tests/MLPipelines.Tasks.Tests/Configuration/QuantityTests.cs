using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;

namespace MLPipelines.Tasks.Tests.Configuration;

/// <summary>Issue 11 item 7: the one parser of sizes and durations, form by form.</summary>
public sealed class QuantityTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1024", 1024L)]
    [InlineData("7B", 7L)]
    [InlineData("7 b", 7L)]
    [InlineData("1K", 1024L)]
    [InlineData("1kb", 1024L)]
    [InlineData("1KiB", 1024L)]
    [InlineData("10M", 10L << 20)]
    [InlineData("10m", 10L << 20)]
    [InlineData("500MB", 500L << 20)]
    [InlineData("3MiB", 3L << 20)]
    [InlineData("1.5G", 3L << 29)]
    [InlineData("10gb", 10L << 30)]
    [InlineData("2GiB", 2L << 30)]
    [InlineData("1.5TB", 3L << 39)]
    [InlineData("1t", 1L << 40)]
    [InlineData("2 KB", 2048L)]
    [InlineData(" 1.5 k ", 1536L)]
    [InlineData(".5K", 512L)]
    [InlineData("0.1B", 0L)]
    [InlineData("8191P", 8191L << 50)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void SizesAccept(string text, long bytes)
    {
        Assert.True(Quantity.TryParseSize(text, out var parsed), text);
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(null)]
    [InlineData("-1")]
    [InlineData("-1MB")]
    [InlineData("+1MB")]
    [InlineData("10XB")]
    [InlineData("10 MBs")]
    [InlineData("MB")]
    [InlineData("1e3")]
    [InlineData("1,5G")]
    [InlineData("1.5.1G")]
    [InlineData("8192P")]                  // 2^63: one past long.MaxValue
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999999999999T")]
    [InlineData("10 M B")]
    public void SizesRefuse(string? text) => Assert.False(Quantity.TryParseSize(text, out _), text);

    [Theory]
    [InlineData("86400", 86400.0)]
    [InlineData("0.5", 0.5)]
    [InlineData("250ms", 0.25)]
    [InlineData("30s", 30.0)]
    [InlineData("90m", 5400.0)]
    [InlineData("90 min", 5400.0)]
    [InlineData("1h", 3600.0)]
    [InlineData("1.5H", 5400.0)]
    [InlineData("7d", 7 * 86400.0)]
    [InlineData("2w", 14 * 86400.0)]
    [InlineData("28.00:00:00", 28 * 86400.0)]
    [InlineData("00:30:00", 1800.0)]
    [InlineData("1.00:00:00", 86400.0)]
    public void DurationsAccept(string text, double seconds)
    {
        Assert.True(Quantity.TryParseDuration(text, allowZero: false, out var parsed), text);
        Assert.Equal(TimeSpan.FromSeconds(seconds), parsed);
    }

    [Fact]
    public void ATenthOfASecondIsExact()
    {
        Assert.True(Quantity.TryParseDuration("0.1", allowZero: false, out var parsed));
        Assert.Equal(TimeSpan.FromTicks(1_000_000), parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("0")]
    [InlineData("0s")]
    [InlineData("00:00:00")]
    [InlineData("-1")]
    [InlineData("-1h")]
    [InlineData("-01:00:00")]
    [InlineData("soon")]
    [InlineData("1y")]                     // a year, like a month, has no fixed length
    [InlineData("1 hour")]
    [InlineData("1e3")]
    [InlineData("h")]
    [InlineData("99999999999w")]           // beyond TimeSpan.MaxValue (about 29,000 years)
    [InlineData("10675199.02:48:05.4775808")]
    [InlineData("0.00000001s")]            // less than a tick: not positive
    public void DurationsRefuse(string? text) => Assert.False(Quantity.TryParseDuration(text, allowZero: false, out _), text);

    [Theory]
    [InlineData("0")]
    [InlineData("0s")]
    [InlineData("0h")]
    [InlineData("00:00:00")]
    public void ZeroIsADurationWhereAllowed(string text)
    {
        Assert.True(Quantity.TryParseDuration(text, allowZero: true, out var parsed), text);
        Assert.Equal(TimeSpan.Zero, parsed);
        Assert.False(Quantity.TryParseDuration("-1s", allowZero: true, out _));
    }

    [Fact]
    public void EveryDurationPropertyAndMetadataUsesTheUnits()
    {
        var diagnostics = new List<PipelineDiagnostic>();
        Assert.Equal(TimeSpan.FromHours(1), PropertyParser.ParseDuration("1h", "PipelineCacheMaxAge", diagnostics));
        Assert.Equal(TimeSpan.FromMinutes(5), PropertyParser.ParseDuration("5m", "PipelineLockTimeout", diagnostics, allowZero: true));
        Assert.Equal(TimeSpan.FromDays(7), StepParser.ParseDuration("7d"));
        Assert.Equal(10L << 20, PropertyParser.ParseSize("10M", "PipelineCacheMaxSize", diagnostics));
        Assert.Empty(diagnostics);
    }

    [Fact]
    public void BadValuesListTheAcceptedForms()
    {
        var diagnostics = new List<PipelineDiagnostic>();
        Assert.Null(PropertyParser.ParseSize("10Q", "PipelineCacheMaxSize", diagnostics));
        Assert.Null(PropertyParser.ParseDuration("7 days", "PipelineCacheMaxAge", diagnostics));
        Assert.All(diagnostics, d => Assert.Equal(ErrorCodes.InvalidProperty, d.Code));
        Assert.Equal($"Property PipelineCacheMaxSize='10Q' is not valid: give {Quantity.SizeForms}.", diagnostics[0].Message);
        Assert.Contains("K/KB/KiB", diagnostics[0].Message, StringComparison.Ordinal);
        Assert.Equal($"Property PipelineCacheMaxAge='7 days' is not valid: give a positive duration: {Quantity.DurationForms}.", diagnostics[1].Message);
        Assert.Contains("7d", diagnostics[1].Message, StringComparison.Ordinal);
    }
}
