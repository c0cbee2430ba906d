using MLPipelines.Engine.Hashing;
using MLPipelines.Tasks.Tests.TestKit;
using System.Runtime.Versioning;

namespace MLPipelines.Tasks.Tests.Hashing;

[UnsupportedOSPlatform("windows")] // ln, cp -p, touch -d and symbolic links through /bin/sh.
public sealed class FileHasherTests : IDisposable
{
    // Years after any change these tests make: under this clock no stamp is racy unless its file's times say so.
    private static readonly DateTimeOffset Now = new(2031, 5, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTime Written = new(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static FileHasher Hasher(IReadOnlyDictionary<string, FileStamp>? known = null) => new(known, new ManualTimeProvider(Now));

    private string WriteFile(string name, string content, DateTime lastWriteUtc)
    {
        var path = _directory.Write(name, content);
        File.SetLastWriteTimeUtc(path, lastWriteUtc);
        return path;
    }

    private static FileIdentity IdentityOf(string path) => FileIdentity.Of(path) ?? throw new Xunit.Sdk.XunitException($"No identity for {path}");

    private static long UnixNs(DateTimeOffset time) => (time.UtcTicks - DateTime.UnixEpoch.Ticks) * 100;

    // Longer than the tick of a Linux or macOS file clock, so the next change gets a later change time: rewrites in
    // the same tick are what the racy rule is for, and these tests look at the identity alone.
    private static void NextTick() => Thread.Sleep(50);

    [Fact]
    public void AnUnchangedFileIsReadOnce()
    {
        var path = WriteFile("data.csv", "1,2,3", Now.UtcDateTime.AddHours(-1));
        var hasher = Hasher();

        var first = hasher.Hash(path);
        var second = hasher.Hash(path);

        Assert.Equal(ContentHash.OfText("1,2,3"), first);
        Assert.Equal(first, second);
        Assert.Equal(1, hasher.FilesRead);
    }

    [Fact]
    public void AChangedFileIsReadAgain()
    {
        var path = WriteFile("data.csv", "1,2,3", Now.UtcDateTime.AddHours(-1));
        var hasher = Hasher();
        var before = hasher.Hash(path);

        WriteFile("data.csv", "4,5,6", Now.UtcDateTime.AddMinutes(-30));
        var after = hasher.Hash(path);

        Assert.Equal(2, hasher.FilesRead);
        Assert.Equal(ContentHash.OfText("4,5,6"), after);
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void ASizeChangeAloneIsEnoughToReadAgain()
    {
        var path = WriteFile("data.csv", "1,2,3", Now.UtcDateTime.AddHours(-1));
        var hasher = Hasher();
        hasher.Hash(path);

        WriteFile("data.csv", "1,2,3,4", Now.UtcDateTime.AddHours(-1));

        Assert.Equal(ContentHash.OfText("1,2,3,4"), hasher.Hash(path));
        Assert.Equal(2, hasher.FilesRead);
    }

    [Fact]
    public void AMatchingStampFromAnEarlierRunIsTrustedWithoutReading()
    {
        var path = WriteFile("data.csv", "1,2,3", Now.UtcDateTime.AddHours(-1));
        var known = new Dictionary<string, FileStamp> { [path] = new(IdentityOf(path), "remembered", UnixNs(Now)) };
        var hasher = Hasher(known);

        Assert.Equal("remembered", hasher.Hash(path));
        Assert.Equal(0, hasher.FilesRead);
        Assert.Empty(hasher.StampsToPersist());
    }

    [Theory]
    [InlineData("size")]
    [InlineData("mtime")]
    [InlineData("ctime")]
    [InlineData("inode")]
    [InlineData("device")]
    [InlineData("link inode")]
    [InlineData("link ctime")]
    public void AStampFromAnEarlierRunThatDiffersInAnyFieldIsIgnored(string field)
    {
        var path = WriteFile("data.csv", "1,2,3", Now.UtcDateTime.AddHours(-1));
        var actual = IdentityOf(path);
        var remembered = field switch
        {
            "size" => actual with { Size = actual.Size + 1 },
            "mtime" => actual with { LastWriteUnixNs = actual.LastWriteUnixNs - 1 },
            "ctime" => actual with { ChangeUnixNs = actual.ChangeUnixNs - 1 },
            "inode" => actual with { Inode = actual.Inode + 1 },
            "device" => actual with { Device = actual.Device + 1 },
            "link inode" => actual with { LinkInode = 42 },
            _ => actual with { LinkChangeUnixNs = actual.ChangeUnixNs },
        };
        var hasher = Hasher(new Dictionary<string, FileStamp> { [path] = new(remembered, "stale", UnixNs(Now)) });

        Assert.Equal(ContentHash.OfText("1,2,3"), hasher.Hash(path));
        Assert.Equal(1, hasher.FilesRead);
    }

    [Fact]
    public void ARewriteThatRestoresSizeAndModificationTimeIsReadAgain()
    {
        var path = WriteFile("data.csv", "abc", Written);
        var hasher = Hasher();
        hasher.Hash(path);
        var before = IdentityOf(path);

        NextTick();
        WriteFile("data.csv", "xyz", Written);
        var after = IdentityOf(path);

        // Only the change time tells: same size, same modification time, same inode (rewritten in place).
        Assert.Equal(before with { ChangeUnixNs = after.ChangeUnixNs }, after);
        Assert.Equal(ContentHash.OfText("xyz"), hasher.Hash(path));
        Assert.Equal(2, hasher.FilesRead);
    }

    [Fact]
    public void CopyingOverTheFileWithItsTimesPreservedCannotFoolIt()
    {
        var path = _directory.Write("data.csv", "abc");
        _directory.Write("other.csv", "xyz");
        Shell.Run(_directory.Path, "touch -d '2024-01-01 00:00:00' data.csv other.csv");
        var hasher = Hasher();
        hasher.Hash(path);

        NextTick();
        Shell.Run(_directory.Path, "cp -p other.csv data.csv");

        Assert.Equal(File.GetLastWriteTimeUtc(_directory.Combine("other.csv")), File.GetLastWriteTimeUtc(path));
        Assert.Equal(ContentHash.OfText("xyz"), hasher.Hash(path));
        Assert.Equal(2, hasher.FilesRead);
    }

    [Fact]
    public void TouchingTheOldTimeBackAfterARewriteCannotFoolIt()
    {
        var path = _directory.Write("data.csv", "abc");
        Shell.Run(_directory.Path, "touch -d '2024-01-01 00:00:00' data.csv");
        var hasher = Hasher();
        hasher.Hash(path);

        NextTick();
        Shell.Run(_directory.Path, "printf xyz > data.csv && touch -d '2024-01-01 00:00:00' data.csv");

        Assert.Equal(ContentHash.OfText("xyz"), hasher.Hash(path));
        Assert.Equal(2, hasher.FilesRead);
    }

    [Fact]
    public void AFileReplacedByARenameIsReadAgain()
    {
        var path = WriteFile("data.csv", "abc", Written);
        var hasher = Hasher();
        hasher.Hash(path);
        var before = IdentityOf(path);

        var replacement = WriteFile("data.csv.tmp", "xyz", Written);
        File.Move(replacement, path, overwrite: true);

        Assert.NotEqual(before.Inode, IdentityOf(path).Inode);
        Assert.Equal(ContentHash.OfText("xyz"), hasher.Hash(path));
        Assert.Equal(2, hasher.FilesRead);
    }

    [Fact]
    public void ALinkWhoseTargetChangesIsReadAgain()
    {
        var target = WriteFile("real/data.csv", "abc", Written);
        var link = _directory.Combine("link.csv");
        File.CreateSymbolicLink(link, "real/data.csv");
        var hasher = Hasher();
        Assert.Equal(ContentHash.OfText("abc"), hasher.Hash(link));

        NextTick();
        WriteFile("real/data.csv", "xyz", Written);

        Assert.Equal(ContentHash.OfText("xyz"), hasher.Hash(link));
        Assert.Equal(ContentHash.OfText("xyz"), hasher.Hash(target));
        Assert.Equal(3, hasher.FilesRead);
    }

    [Fact]
    public void ARetargetedLinkIsReadAgain()
    {
        WriteFile("a.csv", "abc", Written);
        WriteFile("b.csv", "xyz", Written);
        var link = _directory.Combine("link.csv");
        File.CreateSymbolicLink(link, "a.csv");
        var hasher = Hasher();
        Assert.Equal(ContentHash.OfText("abc"), hasher.Hash(link));

        Shell.Run(_directory.Path, "ln -sfn b.csv link.csv");

        Assert.Equal(ContentHash.OfText("xyz"), hasher.Hash(link));
        Assert.Equal(2, hasher.FilesRead);
    }

    [Fact]
    public void ALinkMadeAgainIsNoticedEvenWhenItNamesTheSameFile()
    {
        WriteFile("a.csv", "abc", Written);
        var link = _directory.Combine("link.csv");
        File.CreateSymbolicLink(link, "a.csv");
        var hasher = Hasher();
        hasher.Hash(link);

        // Only the link's own inode and change time move: the link part of the stamp is what sees it.
        Shell.Run(_directory.Path, "ln -sfn a.csv link.csv");

        Assert.Equal(ContentHash.OfText("abc"), hasher.Hash(link));
        Assert.Equal(2, hasher.FilesRead);
    }

    [Fact]
    public void ADanglingLinkAMissingFileAndADirectoryAreNotFound()
    {
        var link = _directory.Combine("link.csv");
        File.CreateSymbolicLink(link, "gone.csv");
        var hasher = Hasher();

        Assert.Equal(link, Assert.Throws<FileNotFoundException>(() => hasher.Hash(link)).FileName);
        Assert.Throws<FileNotFoundException>(() => hasher.Hash(_directory.Combine("missing.csv")));
        Assert.Throws<FileNotFoundException>(() => hasher.Hash(_directory.Subdirectory("folder")));
    }

    [Fact]
    public void ALinkWhoseTargetIsDeletedAfterHashingIsNotFound()
    {
        var target = WriteFile("a.csv", "abc", Written);
        var link = _directory.Combine("link.csv");
        File.CreateSymbolicLink(link, "a.csv");
        var hasher = Hasher();
        hasher.Hash(link);

        File.Delete(target);

        Assert.Throws<FileNotFoundException>(() => hasher.Hash(link));
    }

    [Fact]
    public void AFileChangedJustBeforeItWasHashedIsReadAgainAndNotPersisted()
    {
        // Set back an hour, but the change time is now: on the real clock the stamp is racy.
        var path = WriteFile("data.csv", "1,2,3", DateTime.UtcNow.AddHours(-1));
        var hasher = new FileHasher();

        hasher.Hash(path);
        hasher.Hash(path);

        Assert.Equal(2, hasher.FilesRead);
        Assert.Empty(hasher.StampsToPersist());
    }

    [Fact]
    public void TheRacyWindowIsJudgedFromTheMomentOfHashing()
    {
        var path = _directory.Write("data.csv", "1,2,3");
        var changed = DateTimeOffset.UnixEpoch.AddTicks(IdentityOf(path).LastChangeUnixNs / 100);
        var clock = new ManualTimeProvider(changed + FileStamp.RacyWindow - TimeSpan.FromMilliseconds(10));
        var hasher = new FileHasher(clock: clock);

        hasher.Hash(path);
        clock.Advance(TimeSpan.FromMinutes(5));
        // Much later now, but the stamp was taken inside the window: still not trusted. This read takes a new one.
        hasher.Hash(path);
        hasher.Hash(path);

        Assert.Equal(2, hasher.FilesRead);
        var persisted = Assert.Single(hasher.StampsToPersist());
        Assert.Equal(new FileStamp(IdentityOf(path), ContentHash.OfText("1,2,3"), UnixNs(clock.GetUtcNow())), persisted.Value);
    }

    [Fact]
    public void StampsOfFilesModifiedWithinTheRacyWindowAreNotPersisted()
    {
        var old = WriteFile("old.csv", "old", Now.UtcDateTime.AddHours(-1));
        var recent = WriteFile("recent.csv", "recent", Now.UtcDateTime.AddSeconds(-1));
        var future = WriteFile("future.csv", "future", Now.UtcDateTime.AddSeconds(5));
        var hasher = Hasher();
        hasher.Hash(old);
        hasher.Hash(recent);
        hasher.Hash(future);

        var persisted = hasher.StampsToPersist();

        var stamp = Assert.Single(persisted);
        Assert.Equal(old, stamp.Key);
        Assert.Equal(new FileStamp(IdentityOf(old), ContentHash.OfText("old"), UnixNs(Now)), stamp.Value);
        Assert.Equal(3, hasher.FilesRead);
        hasher.Hash(recent);
        hasher.Hash(future);
        Assert.Equal(5, hasher.FilesRead);
    }

    [Fact]
    public void RememberedHashesAreUsedAndPersisted()
    {
        var path = WriteFile("restored.bin", "payload", Now.UtcDateTime.AddHours(-2));
        var identity = IdentityOf(path);
        var hasher = Hasher();

        hasher.Remember(path, identity, "from-object");

        Assert.Equal("from-object", hasher.Hash(path));
        Assert.Equal(0, hasher.FilesRead);
        Assert.Equal(new FileStamp(identity, "from-object", UnixNs(Now)), hasher.StampsToPersist()[path]);
    }

    [Fact]
    public void ARememberedHashIsDroppedWhenTheFileChangesAfterItsIdentityWasTaken()
    {
        var path = WriteFile("restored.bin", "payload", Written);
        var seenBeforeRead = IdentityOf(path);
        var hasher = Hasher();

        NextTick();
        WriteFile("restored.bin", "PAYLOAD", Written);
        hasher.Remember(path, seenBeforeRead, ContentHash.OfText("payload"));

        Assert.Equal(ContentHash.OfText("PAYLOAD"), hasher.Hash(path));
        Assert.Equal(1, hasher.FilesRead);
    }

    [Fact]
    public void AHashRememberedForAFileJustWrittenIsNotTrusted()
    {
        var path = _directory.Write("restored.bin", "payload");
        var hasher = new FileHasher();

        hasher.Remember(path, IdentityOf(path), "from-object");

        Assert.Equal(ContentHash.OfText("payload"), hasher.Hash(path));
        Assert.Equal(1, hasher.FilesRead);
        Assert.Empty(hasher.StampsToPersist());
    }
}
