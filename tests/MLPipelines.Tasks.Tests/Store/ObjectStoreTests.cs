using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Store;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Store;

public sealed class ObjectStoreTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly ObjectStore _objects;

    public ObjectStoreTests()
    {
        _objects = new ObjectStore(_directory.Combine("store/objects"));
    }

    public void Dispose() => _directory.Dispose();

    private List<string> ObjectFiles() =>
        Directory.EnumerateFiles(_objects.Root, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetDirectoryName(f) != Path.Combine(_objects.Root, "tmp"))
            .ToList();

    private List<string> TempFiles() => Directory.EnumerateFileSystemEntries(Path.Combine(_objects.Root, "tmp")).ToList();

    [Fact]
    public void AddStoresTheFileUnderItsHash()
    {
        var source = _directory.Write("model/weights.bin", "weights");

        var (hash, size) = _objects.Add(source);

        Assert.Equal(ContentHash.OfText("weights"), hash);
        Assert.Equal(7, size);
        Assert.True(_objects.Contains(hash));
        Assert.Equal(Path.Combine(_objects.Root, hash[..2], hash), _objects.PathOf(hash));
        Assert.Equal("weights", File.ReadAllText(_objects.PathOf(hash)));
        Assert.Equal("weights", File.ReadAllText(source));
    }

    [Fact]
    public void EqualContentIsStoredOnce()
    {
        var first = _objects.Add(_directory.Write("a/train.csv", "same bytes"));
        var second = _objects.Add(_directory.Write("b/copy.csv", "same bytes"));
        var third = _objects.Add(_directory.Write("c/other.csv", "other bytes"));

        Assert.Equal(first, second);
        Assert.NotEqual(first.Hash, third.Hash);
        Assert.Equal(2, ObjectFiles().Count);
    }

    [Fact]
    public void AddLeavesTheTempFolderEmpty()
    {
        _objects.Add(_directory.Write("x.bin", "x"));
        _objects.Add(_directory.Write("y.bin", "x"));

        Assert.Empty(TempFiles());
    }

    [Fact]
    public void AddOfAMissingFileThrowsAndLeavesNothingBehind()
    {
        Assert.ThrowsAny<IOException>(() => _objects.Add(_directory.Combine("missing.bin")));

        Assert.Empty(TempFiles());
        Assert.Empty(ObjectFiles());
    }

    [Fact]
    public void StageCopyVerifiesAndCopiesNextToTheTarget()
    {
        var (hash, _) = _objects.Add(_directory.Write("source.bin", "payload"));
        var target = _directory.Combine("restore/model/weights.bin");

        var staged = StageCopyOrFail(hash, target);

        Assert.Equal(Path.GetDirectoryName(target), Path.GetDirectoryName(staged));
        Assert.NotEqual(target, staged);
        Assert.Equal("payload", File.ReadAllText(staged));
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void StageCopyOfAMissingObjectIsNull()
    {
        Assert.Null(_objects.StageCopy(ContentHash.OfText("never stored"), _directory.Combine("out/x.bin")));
    }

    [Theory]
    [InlineData("payloaD")]
    [InlineData("payload and more")]
    [InlineData("")]
    public void StageCopyOfAnAlteredObjectIsNullAndLeavesNoTempFile(string altered)
    {
        var (hash, _) = _objects.Add(_directory.Write("source.bin", "payload"));
        File.WriteAllText(_objects.PathOf(hash), altered);
        var target = _directory.Combine("out/weights.bin");

        Assert.Null(_objects.StageCopy(hash, target));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(target)!));
    }

    [Fact]
    public void RemoveDeletesAnObjectAndToleratesAMissingOne()
    {
        var (hash, _) = _objects.Add(_directory.Write("source.bin", "payload"));

        _objects.Remove(hash);
        _objects.Remove(hash);

        Assert.False(_objects.Contains(hash));
    }

    [Fact]
    public void AddingAgainRepairsAnObjectThatWasRemovedForDamage()
    {
        var source = _directory.Write("source.bin", "payload");
        var (hash, _) = _objects.Add(source);
        File.WriteAllText(_objects.PathOf(hash), "garbage");
        _objects.Remove(hash);

        _objects.Add(source);

        Assert.Equal("payload", File.ReadAllText(StageCopyOrFail(hash, _directory.Combine("out/x.bin"))));
    }

    private string StageCopyOrFail(string hash, string target)
    {
        var staged = _objects.StageCopy(hash, target);
        Assert.NotNull(staged);
        return staged;
    }
}
