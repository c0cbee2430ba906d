namespace MLPipelines.Engine.Hashing;

/// <summary>
/// What the file system tells about a file without reading it: the part of a stamp that must match, field for field,
/// before a remembered hash is trusted. It is what git's index and Bazel's digest cache compare: size, modification
/// time at full precision, change time, inode and device. A content rewrite that restores size and modification time
/// (<c>cp -p</c>, <c>touch -d</c>, <c>File.SetLastWriteTimeUtc</c>) still moves the change time, which no user call can
/// set back, and a file replaced by a rename has another inode.
/// </summary>
/// <remarks>
/// A symbolic link is followed: the fields describe its target. The link's own inode and change time are kept too,
/// so a link pointed elsewhere (<c>ln -sfn</c>) differs even when both targets look alike; for anything else they are
/// 0. Only the last component's link is recorded: a retargeted link in a parent folder or in a chain of links shows
/// through the target's own inode and device. Times are nanoseconds since 1970-01-01 UTC (Windows: 100 ns
/// resolution); the values are only compared, never interpreted as dates, except for git's racy check.
/// </remarks>
/// <param name="Size">Length of the (target) file in bytes.</param>
/// <param name="LastWriteUnixNs">Modification time (<c>st_mtime</c>; Windows: LastWriteTime), ns since the Unix epoch.</param>
/// <param name="ChangeUnixNs">Status change time (<c>st_ctime</c>; Windows: ChangeTime), ns since the Unix epoch.</param>
/// <param name="Inode">Inode number (Windows: the 64-bit file index).</param>
/// <param name="Device">Device of the file system (Linux: major in the high 32 bits, minor in the low; macOS: <c>st_dev</c>; Windows: volume serial number).</param>
/// <param name="LinkInode">The symbolic link's own inode when the path is one, else 0.</param>
/// <param name="LinkChangeUnixNs">The symbolic link's own change time when the path is one, else 0.</param>
public readonly record struct FileIdentity(
    long Size,
    long LastWriteUnixNs,
    long ChangeUnixNs,
    ulong Inode,
    ulong Device,
    ulong LinkInode,
    long LinkChangeUnixNs)
{
    /// <summary>The latest of the modification and change times (the link's included): what the racy check compares.</summary>
    public long LastChangeUnixNs => Math.Max(Math.Max(LastWriteUnixNs, ChangeUnixNs), LinkChangeUnixNs);

    /// <summary>
    /// Reads the identity of <paramref name="fullPath"/> with one system call (<c>statx</c> on Linux, <c>lstat</c> on
    /// macOS), and a second one only when the path is a symbolic link. Returns null when nothing is there, when the
    /// path is not a regular file (a directory, a FIFO, a socket, a device: nothing to hash, and opening a FIFO would
    /// block), or when it is a symbolic link whose target is missing (dangling), a loop, or not a regular file.
    /// </summary>
    /// <exception cref="UnauthorizedAccessException">A folder on the way may not be searched.</exception>
    /// <exception cref="IOException">Any other failure of the system call (the message names it).</exception>
    /// <exception cref="PlatformNotSupportedException">Not Linux, macOS or Windows, or a kernel without <c>statx</c>.</exception>
    public static FileIdentity? Of(string fullPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(fullPath);
        if (fullPath.Contains('\0', StringComparison.Ordinal))
        {
            // A C string would end at the NUL and name another file; .NET's own file APIs refuse such paths too.
            throw new ArgumentException("The path contains a NUL character.", nameof(fullPath));
        }

        if (OperatingSystem.IsLinux())
        {
            return FileStat.Linux(fullPath);
        }

        if (OperatingSystem.IsMacOS())
        {
            return FileStat.MacOS(fullPath);
        }

        if (OperatingSystem.IsWindows())
        {
            return FileStat.Windows(fullPath);
        }

        throw new PlatformNotSupportedException("File identities are read on Linux, macOS and Windows only.");
    }
}
