using MLPipelines.Engine.Hashing;
using MLPipelines.Tasks.Tests.TestKit;
using System.Runtime.Versioning;

namespace MLPipelines.Tasks.Tests.Hashing;

[UnsupportedOSPlatform("windows")] // ln, cp -p, touch -d and symbolic links through /bin/sh.
public sealed class FileIdentityTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static FileIdentity Of(string path) => FileIdentity.Of(path) ?? throw new Xunit.Sdk.XunitException($"No identity for {path}");

    [Fact]
    public void APlainFileHasItsSizeTimesAndInodeAndNoLinkPart()
    {
        var path = _directory.Write("data.csv", "1,2,3");
        var written = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234567);
        File.SetLastWriteTimeUtc(path, written);

        var identity = Of(path);

        Assert.Equal(5, identity.Size);
        Assert.Equal((written - DateTime.UnixEpoch).Ticks * 100, identity.LastWriteUnixNs);
        // The change time is the kernel's "now" of the last change, which SetLastWriteTimeUtc itself was.
        Assert.InRange(identity.ChangeUnixNs, UnixNs(DateTime.UtcNow.AddMinutes(-1)), UnixNs(DateTime.UtcNow.AddMinutes(1)));
        Assert.Equal(identity.ChangeUnixNs, identity.LastChangeUnixNs);
        Assert.NotEqual(0UL, identity.Inode);
        Assert.Equal(0UL, identity.LinkInode);
        Assert.Equal(0L, identity.LinkChangeUnixNs);
        Assert.Equal(identity, Of(path));
    }

    [Fact]
    public void AHardLinkIsTheSameFileAndAnotherFileIsNot()
    {
        var path = _directory.Write("data.csv", "1,2,3");
        var other = _directory.Write("other.csv", "1,2,3");
        Shell.Run(_directory.Path, "ln data.csv hard.csv");

        var original = Of(path);
        var hard = Of(_directory.Combine("hard.csv"));
        var another = Of(other);

        Assert.Equal(original.Inode, hard.Inode);
        Assert.Equal(original.Device, hard.Device);
        Assert.NotEqual(original.Inode, another.Inode);
        Assert.Equal(original.Device, another.Device);
    }

    [Fact]
    public void ASymbolicLinkIsFollowedAndKeepsItsOwnInodeAndChangeTime()
    {
        var target = _directory.Write("real/data.csv", "1,2,3,4");
        var link = _directory.Combine("link.csv");
        File.CreateSymbolicLink(link, "real/data.csv");

        var followed = Of(link);
        var plain = Of(target);

        Assert.Equal(plain with { LinkInode = followed.LinkInode, LinkChangeUnixNs = followed.LinkChangeUnixNs }, followed);
        Assert.Equal(7, followed.Size);
        Assert.NotEqual(0UL, followed.LinkInode);
        Assert.NotEqual(plain.Inode, followed.LinkInode);
        Assert.NotEqual(0L, followed.LinkChangeUnixNs);
    }

    [Fact]
    public void NothingADirectoryADanglingLinkAndALoopHaveNoIdentity()
    {
        _directory.Subdirectory("folder");
        File.CreateSymbolicLink(_directory.Combine("dangling.csv"), "missing.csv");
        File.CreateSymbolicLink(_directory.Combine("loop-a"), "loop-b");
        File.CreateSymbolicLink(_directory.Combine("loop-b"), "loop-a");
        File.CreateSymbolicLink(_directory.Combine("folder-link"), "folder");
        var file = _directory.Write("file.csv", "x");

        Assert.Null(FileIdentity.Of(_directory.Combine("missing.csv")));
        Assert.Null(FileIdentity.Of(_directory.Combine("folder")));
        Assert.Null(FileIdentity.Of(_directory.Combine("folder-link")));
        Assert.Null(FileIdentity.Of(_directory.Combine("dangling.csv")));
        Assert.Null(FileIdentity.Of(_directory.Combine("loop-a")));
        Assert.Null(FileIdentity.Of(file + "/below-a-file"));
    }

    [Fact]
    public void AVeryLongPathIsRead()
    {
        // Longer than the stack buffer for the UTF-8 path: the pooled one is used.
        var relative = string.Join('/', Enumerable.Range(0, 12).Select(i => new string((char)('a' + i), 100))) + "/é.csv";
        var path = _directory.Write(relative, "long");

        Assert.Equal(4, Of(path).Size);
    }

    private static long UnixNs(DateTime utc) => (utc - DateTime.UnixEpoch).Ticks * 100;
}
