using System.Runtime.InteropServices;

namespace MLPipelines.Engine.Store;

/// <summary>Where a store lies, as far as SQLite cares.</summary>
public enum FileSystemKind
{
    /// <summary>A local disk: WAL works.</summary>
    Local,

    /// <summary>NFS, SMB or CIFS: no shared memory across machines, so no WAL (sqlite.org/wal.html).</summary>
    Network,
}

/// <summary>
/// Tells a network file system from a local one: <c>statfs(2)</c>'s <c>f_type</c> magic number on Linux
/// (include/uapi/linux/magic.h and the cifs/smb client sources), <c>f_fstypename</c> on macOS (through
/// <see cref="DriveInfo.DriveFormat"/>, which reads it), the drive type on Windows. Anything it cannot tell is local.
/// </summary>
public static class FileSystems
{
    /// <summary><c>NFS_SUPER_MAGIC</c>.</summary>
    public const uint NfsMagic = 0x6969;

    /// <summary><c>SMB_SUPER_MAGIC</c> (the old smbfs).</summary>
    public const uint SmbMagic = 0x517B;

    /// <summary><c>CIFS_SUPER_MAGIC</c> ("\xFFSMB").</summary>
    public const uint CifsMagic = 0xFF534D42;

    /// <summary><c>SMB2_SUPER_MAGIC</c> ("\xFESMB").</summary>
    public const uint Smb2Magic = 0xFE534D42;

    /// <summary>The kind of the file system holding <paramref name="directory"/> (an existing folder).</summary>
    public static FileSystemKind KindOf(string directory)
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                return LinuxMagic(directory) is { } magic ? FromLinuxMagic(magic) : FileSystemKind.Local;
            }

            if (OperatingSystem.IsWindows())
            {
                return directory.StartsWith(@"\\", StringComparison.Ordinal) && !directory.StartsWith(@"\\?\", StringComparison.Ordinal)
                    || new DriveInfo(Path.GetPathRoot(Path.GetFullPath(directory))!).DriveType == DriveType.Network
                    ? FileSystemKind.Network
                    : FileSystemKind.Local;
            }

            return FromTypeName(new DriveInfo(directory).DriveFormat);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or DllNotFoundException or EntryPointNotFoundException)
        {
            return FileSystemKind.Local; // SQLite's default then; an unknown file system is most likely a local one.
        }
    }

    /// <summary>The kind of a Linux <c>statfs</c> <c>f_type</c>.</summary>
    public static FileSystemKind FromLinuxMagic(uint magic) =>
        magic is NfsMagic or SmbMagic or CifsMagic or Smb2Magic ? FileSystemKind.Network : FileSystemKind.Local;

    /// <summary>The kind of a file-system type name (macOS <c>f_fstypename</c>: <c>nfs</c>, <c>smbfs</c>; .NET's names on Linux).</summary>
    public static FileSystemKind FromTypeName(string name) =>
        name.ToLowerInvariant() is "nfs" or "nfs4" or "smbfs" or "smb" or "smb2" or "cifs" ? FileSystemKind.Network : FileSystemKind.Local;

    private static uint? LinuxMagic(string directory)
    {
        // struct statfs: f_type is the first field, a C long (__fsword_t) on every Linux ABI; 512 bytes cover the struct.
        var buffer = new byte[512];
        var cPath = System.Text.Encoding.UTF8.GetBytes(directory + "\0");
        if (StatFs(ref cPath[0], buffer) != 0)
        {
            return null;
        }

        return Environment.Is64BitProcess ? unchecked((uint)BitConverter.ToInt64(buffer, 0)) : unchecked((uint)BitConverter.ToInt32(buffer, 0));
    }

    [DllImport("libc", EntryPoint = "statfs", SetLastError = true, ExactSpelling = true)]
    private static extern int StatFs(ref byte path, byte[] buffer);
}
