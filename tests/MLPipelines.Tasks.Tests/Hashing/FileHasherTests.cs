using MLPipelines.Engine.Hashing;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Hashing;

public sealed class FileHasherTests : IDisposable
{
    private static readonly DateTime Now = new(2031, 5, 4, 12, 0, 0, DateTimeKind.Utc);

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string WriteFile(string name, string content, DateTime lastWriteUtc)
    {
        var path = _directory.Write(name, content);
        File.SetLastWriteTimeUtc(path, lastWriteUtc);
        return path;
    }

    [Fact]
    public void AnUnchangedFileIsReadOnce()
    {
        var path = WriteFile("data.csv", "1,2,3", Now.AddHours(-1));
        var hasher = new FileHasher();

        var first = hasher.Hash(path);
        var second = hasher.Hash(path);

        Assert.Equal(ContentHash.OfText("1,2,3"), first);
        Assert.Equal(first, second);
        Assert.Equal(1, hasher.FilesRead);
    }

    [Fact]
    public void AChangedFileIsReadAgain()
    {
        var path = WriteFile("data.csv", "1,2,3", Now.AddHours(-1));
        var hasher = new FileHasher();
        var before = hasher.Hash(path);

        WriteFile("data.csv", "4,5,6", Now.AddMinutes(-30));
        var after = hasher.Hash(path);

        Assert.Equal(2, hasher.FilesRead);
        Assert.Equal(ContentHash.OfText("4,5,6"), after);
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void ASizeChangeAloneIsEnoughToReadAgain()
    {
        var path = WriteFile("data.csv", "1,2,3", Now.AddHours(-1));
        var hasher = new FileHasher();
        hasher.Hash(path);

        WriteFile("data.csv", "1,2,3,4", Now.AddHours(-1));

        Assert.Equal(ContentHash.OfText("1,2,3,4"), hasher.Hash(path));
        Assert.Equal(2, hasher.FilesRead);
    }

    [Fact]
    public void AMatchingStampFromAnEarlierRunIsTrustedWithoutReading()
    {
        var path = WriteFile("data.csv", "1,2,3", Now.AddHours(-1));
        var info = new FileInfo(path);
        var known = new Dictionary<string, FileStamp> { [path] = new(info.Length, info.LastWriteTimeUtc.Ticks, "remembered") };
        var hasher = new FileHasher(known);

        Assert.Equal("remembered", hasher.Hash(path));
        Assert.Equal(0, hasher.FilesRead);
        Assert.Empty(hasher.StampsToPersist(Now));
    }

    [Fact]
    public void AStaleStampFromAnEarlierRunIsIgnored()
    {
        var path = WriteFile("data.csv", "1,2,3", Now.AddHours(-1));
        var known = new Dictionary<string, FileStamp> { [path] = new(5, Now.AddDays(-1).Ticks, "stale") };
        var hasher = new FileHasher(known);

        Assert.Equal(ContentHash.OfText("1,2,3"), hasher.Hash(path));
        Assert.Equal(1, hasher.FilesRead);
    }

    [Fact]
    public void StampsOfFilesModifiedWithinTheRacyWindowAreNotPersisted()
    {
        var old = WriteFile("old.csv", "old", Now.AddHours(-1));
        var recent = WriteFile("recent.csv", "recent", Now.AddSeconds(-1));
        var future = WriteFile("future.csv", "future", Now.AddSeconds(5));
        var hasher = new FileHasher();
        hasher.Hash(old);
        hasher.Hash(recent);
        hasher.Hash(future);

        var persisted = hasher.StampsToPersist(Now);

        var stamp = Assert.Single(persisted);
        Assert.Equal(old, stamp.Key);
        Assert.Equal(new FileStamp(3, Now.AddHours(-1).Ticks, ContentHash.OfText("old")), stamp.Value);
    }

    [Fact]
    public void RememberedHashesAreUsedAndPersisted()
    {
        var path = WriteFile("restored.bin", "payload", Now.AddHours(-2));
        var ticks = File.GetLastWriteTimeUtc(path).Ticks;
        var hasher = new FileHasher();

        hasher.Remember(path, 7, ticks, "from-object");

        Assert.Equal("from-object", hasher.Hash(path));
        Assert.Equal(0, hasher.FilesRead);
        Assert.Equal(new FileStamp(7, ticks, "from-object"), hasher.StampsToPersist(Now)[path]);
    }
}
