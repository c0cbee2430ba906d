using System.IO.Hashing;
using System.Text;
using MLPipelines.Engine.Hashing;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Hashing;

public sealed class ContentHashTests : IDisposable
{
    // XXH3-128 of no bytes, seed 0, in canonical (big-endian) hex: the reference value of the xxHash project.
    private const string EmptyHash = "99aa06d3014798d86001c324468d497f";

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static string Direct(byte[] bytes) => Convert.ToHexStringLower(XxHash128.Hash(bytes));

    /// <summary>Bytes that are the same on every run, without a pattern short enough to hide a chunking bug.</summary>
    private static byte[] DeterministicBytes(int length)
    {
        var bytes = new byte[length];
        new Random(20240611).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void TheHashOfNothingIsTheReferenceValue()
    {
        Assert.Equal(EmptyHash, ContentHash.OfText(""));
        Assert.Equal(EmptyHash, ContentHash.OfFile(_directory.Write("empty.bin", [])));
    }

    [Fact]
    public void TextHashesAreStableLowercaseHexAndChangeWithTheText()
    {
        var first = ContentHash.OfText("Gamma=0.002");

        Assert.Equal(first, ContentHash.OfText("Gamma=0.002"));
        Assert.Matches("^[0-9a-f]{32}$", first);
        Assert.Equal(Direct(Encoding.UTF8.GetBytes("Gamma=0.002")), first);
        Assert.NotEqual(first, ContentHash.OfText("Gamma=0.0001"));
        Assert.NotEqual(first, ContentHash.OfText("gamma=0.002"));
    }

    [Fact]
    public void AFileHashesLikeItsBytes()
    {
        var path = _directory.Write("data.csv", "a,b\n1,2\n");

        var first = ContentHash.OfFile(path);

        Assert.Equal(first, ContentHash.OfFile(path));
        Assert.Equal(ContentHash.OfText("a,b\n1,2\n"), first);

        File.WriteAllText(path, "a,b\n1,3\n");
        Assert.NotEqual(first, ContentHash.OfFile(path));
    }

    [Theory]
    [InlineData((1 << 20) - 1)]
    [InlineData(1 << 20)]
    [InlineData((1 << 20) + 1)]
    [InlineData((3 << 20) + 12345)]
    public void StreamingAFileAcrossBufferBoundariesEqualsHashingItsBytes(int length)
    {
        var bytes = DeterministicBytes(length);
        var path = _directory.Write("big.bin", bytes);

        Assert.Equal(Direct(bytes), ContentHash.OfFile(path));
    }

    [Fact]
    public void OfStreamCopiesWhatItHashes()
    {
        var bytes = DeterministicBytes((2 << 20) + 7);
        using var source = new MemoryStream(bytes);
        using var copy = new MemoryStream();

        var hash = ContentHash.OfStream(source, copy);

        Assert.Equal(Direct(bytes), hash);
        Assert.Equal(bytes, copy.ToArray());
    }
}
