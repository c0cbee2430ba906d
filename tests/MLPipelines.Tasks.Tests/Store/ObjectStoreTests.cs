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
    public void StageCopyVerifiesAndCopiesIntoTheStagingFolder()
    {
        var (hash, _) = _objects.Add(_directory.Write("source.bin", "payload"));
        var staging = _directory.Combine("store/staging/1-a");

        var staged = StageCopyOrFail(hash, staging);

        Assert.Equal(staging, Path.GetDirectoryName(staged));
        Assert.Equal("payload", File.ReadAllText(staged));
    }

    [Theory]
    [InlineData("../../../victim")]
    [InlineData("ABCDEF0123456789ABCDEF0123456789")]
    [InlineData("abc")]
    [InlineData("0123456789abcdef0123456789abcdef/")]
    public void AHashThatIsNot32LowercaseHexDigitsNamesNoObject(string hash)
    {
        var victim = _directory.Write("victim", "keep me");

        Assert.Null(_objects.StageCopy(hash, _directory.Combine("staging")));
        Assert.False(_objects.Contains(hash));
        _objects.Remove(hash);

        Assert.Throws<ArgumentException>(() => _objects.PathOf(hash));
        Assert.Equal("keep me", File.ReadAllText(victim));
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
        var staging = _directory.Combine("staging");

        Assert.Null(_objects.StageCopy(hash, staging));
        Assert.Empty(Directory.EnumerateFileSystemEntries(staging));
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

        Assert.Equal("payload", File.ReadAllText(StageCopyOrFail(hash, _directory.Combine("staging"))));
    }

    private const UnixFileMode GroupOrOtherAccess = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private string WriteWithMode(string relative, string content, UnixFileMode mode)
    {
        var path = _directory.Write(relative, content);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    [Fact]
    public void AnObjectIsNeverMoreReadableThanItsSource()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var credentials = WriteWithMode("out/credentials.json", "{\"token\":\"abc\"}", UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var (hash, _) = _objects.Add(credentials);

        Assert.Equal(0, (int)(File.GetUnixFileMode(_objects.PathOf(hash)) & GroupOrOtherAccess));
        Assert.True(File.GetUnixFileMode(_objects.PathOf(hash)).HasFlag(UnixFileMode.UserRead));
    }

    [Fact]
    public void AnObjectKeepsTheGroupReadOfItsSourceButNotOthers()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var shared = WriteWithMode("out/team.csv", "rows", (UnixFileMode)0b110_100_000); // 0640
        var (hash, _) = _objects.Add(shared);

        var mode = File.GetUnixFileMode(_objects.PathOf(hash));
        Assert.False(mode.HasFlag(UnixFileMode.OtherRead));
        Assert.Equal(0, (int)(mode & (UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)));
    }

    [Fact]
    public void AStoredObjectIsNarrowedWhenAMoreClosedSourceWithTheSameContentArrives()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var open = WriteWithMode("a/token.txt", "same secret", (UnixFileMode)0b110_100_100);
        var (hash, _) = _objects.Add(open);
        var closed = WriteWithMode("b/token.txt", "same secret", UnixFileMode.UserRead | UnixFileMode.UserWrite);

        _objects.Add(closed);
        _objects.Add(open); // A wider source afterwards does not widen it again.

        Assert.Equal(0, (int)(File.GetUnixFileMode(_objects.PathOf(hash)) & GroupOrOtherAccess));
        Assert.Equal("same secret", File.ReadAllText(_objects.PathOf(hash)));
        Assert.Empty(TempFiles());
    }

    private string StageCopyOrFail(string hash, string stagingDirectory)
    {
        var staged = _objects.StageCopy(hash, stagingDirectory);
        Assert.NotNull(staged);
        return staged;
    }
}
