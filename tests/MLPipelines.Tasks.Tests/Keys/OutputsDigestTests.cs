using MLPipelines.Engine.Keys;
using MLPipelines.Engine.Store;

namespace MLPipelines.Tasks.Tests.Keys;

public sealed class OutputsDigestTests
{
    private static readonly ManifestFile Weights = new("model/weights.bin", "0123456789abcdef0123456789abcdef", 10, 0b110_100_100);
    private static readonly ManifestFile Config = new("model/config.json", "fedcba9876543210fedcba9876543210", 4, 0b110_100_100);

    [Fact]
    public void TheDigestIsAHashOfTheFilesWhateverTheirOrder()
    {
        var digest = OutputsDigest.Of([Weights, Config]);

        Assert.Matches("^[0-9a-f]{32}$", digest);
        Assert.Equal(digest, OutputsDigest.Of([Config, Weights]));
    }

    [Fact]
    public void NoOutputsHaveADigestToo()
    {
        Assert.Equal(OutputsDigest.Of([]), OutputsDigest.Of([], []));
        Assert.NotEqual(OutputsDigest.Of([]), OutputsDigest.Of([Weights]));
    }

    [Theory]
    [InlineData("content")]
    [InlineData("path")]
    [InlineData("execute bit")]
    [InlineData("a file more")]
    [InlineData("a file less")]
    public void WhatADownstreamStepCanSeeChangesTheDigest(string change)
    {
        var before = OutputsDigest.Of([Weights, Config]);

        IReadOnlyList<ManifestFile> after = change switch
        {
            "content" => [Weights with { Hash = "00000000000000000000000000000000" }, Config],
            "path" => [Weights with { Path = "model/weights2.bin" }, Config],
            "execute bit" => [Weights with { Mode = 0b111_101_101 }, Config],
            "a file more" => [Weights, Config, new("model/extra.txt", "11111111111111111111111111111111", 1, 0)],
            "a file less" => [Weights],
            _ => throw new ArgumentOutOfRangeException(nameof(change)),
        };

        Assert.NotEqual(before, OutputsDigest.Of(after));
    }

    [Fact]
    public void SizeAndModeBitsOtherThanExecuteDoNotCount()
    {
        // The size follows from the content; read and write bits follow the umask of whoever ran the step.
        var before = OutputsDigest.Of([Weights]);

        Assert.Equal(before, OutputsDigest.Of([Weights with { Mode = 0b110_110_110 }]));
        Assert.Equal(before, OutputsDigest.Of([Weights with { Size = 99 }]));
    }

    [Fact]
    public void OtherEntriesAreFoldedInSortedAndApartFromFiles()
    {
        var files = OutputsDigest.Of([Weights]);
        var withLink = OutputsDigest.Of([Weights], ["link:model/latest -> weights.bin", "dir:model/empty/"]);

        Assert.NotEqual(files, withLink);
        Assert.Equal(withLink, OutputsDigest.Of([Weights], ["dir:model/empty/", "link:model/latest -> weights.bin"]));
        Assert.NotEqual(withLink, OutputsDigest.Of([Weights], ["link:model/latest -> weights2.bin", "dir:model/empty/"]));
    }
}
