using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace MLPipelines.Engine.Hashing;

/// <summary>
/// The system calls behind <see cref="FileIdentity.Of"/>. .NET's <see cref="FileInfo"/> has neither change time nor
/// inode, and describes a symbolic link itself, so each platform is asked directly. Every path is stat'ed without
/// following a link first; only a link costs a second call. The structs below are the C layouts, offset by offset.
/// </summary>
/// <remarks>Only the Linux code runs in this repository's CI; the macOS and Windows code is untested here.</remarks>
internal static class FileStat
{
    // Paths up to this many UTF-8 bytes are passed from the stack; longer ones from a pooled array.
    private const int StackPathBytes = 1024;

    private const int S_IFMT = 0xF000;
    private const int S_IFDIR = 0x4000;
    private const int S_IFLNK = 0xA000;
    private const int S_IFREG = 0x8000;

    public static FileIdentity? Linux(string path)
    {
        var length = Encoding.UTF8.GetByteCount(path);
        byte[]? rented = null;
        Span<byte> cPath = length < StackPathBytes ? stackalloc byte[length + 1] : (rented = ArrayPool<byte>.Shared.Rent(length + 1));
        try
        {
            cPath[Encoding.UTF8.GetBytes(path, cPath)] = 0;
            return LinuxStat.Identity(ref MemoryMarshal.GetReference(cPath), path);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public static FileIdentity? MacOS(string path)
    {
        var length = Encoding.UTF8.GetByteCount(path);
        byte[]? rented = null;
        Span<byte> cPath = length < StackPathBytes ? stackalloc byte[length + 1] : (rented = ArrayPool<byte>.Shared.Rent(length + 1));
        try
        {
            cPath[Encoding.UTF8.GetBytes(path, cPath)] = 0;
            return MacStat.Identity(ref MemoryMarshal.GetReference(cPath), path);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public static FileIdentity? Windows(string path) => WindowsStat.Identity(path);

    private static Exception Failure(int errno, string path, int accessDenied) =>
        errno == accessDenied
            ? new UnauthorizedAccessException($"Access to the path '{path}' is denied.")
            : new IOException($"Cannot read the status of '{path}': {Marshal.GetPInvokeErrorMessage(errno)} (error {errno}).");

    /// <summary>
    /// statx(2): one struct layout on every Linux architecture (unlike stat's), nanosecond times, and the file type,
    /// so a path needs one call unless it is a link. In glibc since 2.28 and musl since 1.2.5; older C libraries
    /// are served by the raw system call on x64 and arm64.
    /// </summary>
    private static class LinuxStat
    {
        private const int AT_FDCWD = -100;
        private const int AT_SYMLINK_NOFOLLOW = 0x100;
        private const uint STATX_BASIC_STATS = 0x7FF;
        private const int EPERM = 1;
        private const int ENOENT = 2;
        private const int EACCES = 13;
        private const int ENOTDIR = 20;
        private const int ENOSYS = 38;
        private const int ELOOP = 40;

        private static volatile bool _noLibcWrapper;

        public static FileIdentity? Identity(ref byte cPath, string path)
        {
            if (!TryStatx(ref cPath, AT_SYMLINK_NOFOLLOW, path, out var own))
            {
                return null;
            }

            var type = own.Mode & S_IFMT;
            if (type != S_IFLNK)
            {
                // Only regular files have content to hash: opening a FIFO would wait for a writer forever.
                return type != S_IFREG ? null : IdentityOf(in own, linkInode: 0, linkChange: 0);
            }

            // A missing target, or a loop of links: the file is not there, as for open(2).
            if (!TryStatx(ref cPath, 0, path, out var target) || (target.Mode & S_IFMT) != S_IFREG)
            {
                return null;
            }

            return IdentityOf(in target, own.Inode, own.ChangeTime.UnixNs);
        }

        private static FileIdentity IdentityOf(in Statx s, ulong linkInode, long linkChange) => new(
            (long)s.Size,
            s.ModifyTime.UnixNs,
            s.ChangeTime.UnixNs,
            s.Inode,
            ((ulong)s.DeviceMajor << 32) | s.DeviceMinor,
            linkInode,
            linkChange);

        /// <summary>False when nothing is at the path (or a link on it dangles or loops); throws on other errors.</summary>
        private static bool TryStatx(ref byte cPath, int flags, string path, out Statx buffer)
        {
            var result = _noLibcWrapper ? SyscallStatx(ref cPath, flags, out buffer) : LibcStatx(ref cPath, flags, out buffer);
            if (result == 0)
            {
                return true;
            }

            var errno = Marshal.GetLastPInvokeError();
            return errno switch
            {
                ENOENT or ENOTDIR or ELOOP => false,
                // statx does not return EPERM for a path; an old container seccomp profile that blocks the call does.
                ENOSYS or EPERM => throw new PlatformNotSupportedException($"The kernel does not allow statx(2) (error {errno}): Linux 4.11 or later is needed, and a container profile that permits it."),
                _ => throw Failure(errno, path, EACCES),
            };
        }

        private static int LibcStatx(ref byte cPath, int flags, out Statx buffer)
        {
            try
            {
                return StatxLibc(AT_FDCWD, ref cPath, flags, STATX_BASIC_STATS, out buffer);
            }
            catch (EntryPointNotFoundException)
            {
                // Remembered: a failed binding is retried, and throws again, on every call.
                _noLibcWrapper = true;
                return SyscallStatx(ref cPath, flags, out buffer);
            }
        }

        private static int SyscallStatx(ref byte cPath, int flags, out Statx buffer)
        {
            // The statx numbers of the two architectures .NET mostly runs on; syscall(2) is variadic, but on both
            // the integer arguments travel in the same registers as for a plain call.
            long number = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => 332,
                Architecture.Arm64 => 291,
                var other => throw new PlatformNotSupportedException($"This C library has no statx and the system call number on {other} is not known."),
            };
            return (int)Syscall(number, AT_FDCWD, ref cPath, flags, STATX_BASIC_STATS, out buffer);
        }

        [DllImport("libc", EntryPoint = "statx", SetLastError = true, ExactSpelling = true)]
        private static extern int StatxLibc(int dirfd, ref byte pathname, int flags, uint mask, out Statx statxbuf);

        [DllImport("libc", EntryPoint = "syscall", SetLastError = true, ExactSpelling = true)]
        private static extern long Syscall(long number, int dirfd, ref byte pathname, int flags, uint mask, out Statx statxbuf);

        [StructLayout(LayoutKind.Explicit)]
        private readonly struct Timestamp
        {
            [FieldOffset(0)] public readonly long Seconds;
            [FieldOffset(8)] public readonly uint Nanoseconds;

            public long UnixNs => (Seconds * 1_000_000_000) + Nanoseconds;
        }

        /// <summary>struct statx of include/uapi/linux/stat.h: 0x100 bytes.</summary>
        [StructLayout(LayoutKind.Explicit, Size = 0x100)]
        private readonly struct Statx
        {
            [FieldOffset(0x1C)] public readonly ushort Mode;
            [FieldOffset(0x20)] public readonly ulong Inode;
            [FieldOffset(0x28)] public readonly ulong Size;
            [FieldOffset(0x60)] public readonly Timestamp ChangeTime;
            [FieldOffset(0x70)] public readonly Timestamp ModifyTime;
            [FieldOffset(0x88)] public readonly uint DeviceMajor;
            [FieldOffset(0x8C)] public readonly uint DeviceMinor;
        }
    }

    /// <summary>
    /// lstat(2) then stat(2) on macOS with the 64-bit-inode struct, the only one on arm64; on x64 the symbols with
    /// that layout carry the <c>$INODE64</c> suffix (the plain ones are the old 32-bit-inode ABI). Untested here.
    /// </summary>
    private static class MacStat
    {
        private const int ENOENT = 2;
        private const int EACCES = 13;
        private const int ENOTDIR = 20;
        private const int ELOOP = 62;

        public static FileIdentity? Identity(ref byte cPath, string path)
        {
            if (!TryStat(ref cPath, follow: false, path, out var own))
            {
                return null;
            }

            var type = own.Mode & S_IFMT;
            if (type != S_IFLNK)
            {
                // Only regular files have content to hash: opening a FIFO would wait for a writer forever.
                return type != S_IFREG ? null : IdentityOf(in own, linkInode: 0, linkChange: 0);
            }

            if (!TryStat(ref cPath, follow: true, path, out var target) || (target.Mode & S_IFMT) != S_IFREG)
            {
                return null;
            }

            return IdentityOf(in target, own.Inode, own.ChangeTime.UnixNs);
        }

        private static FileIdentity IdentityOf(in Stat s, ulong linkInode, long linkChange) => new(
            s.Size, s.ModifyTime.UnixNs, s.ChangeTime.UnixNs, s.Inode, unchecked((uint)s.Device), linkInode, linkChange);

        private static bool TryStat(ref byte cPath, bool follow, string path, out Stat buffer)
        {
            var x64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;
            var result = (follow, x64) switch
            {
                (false, false) => LStatArm64(ref cPath, out buffer),
                (false, true) => LStatX64(ref cPath, out buffer),
                (true, false) => StatArm64(ref cPath, out buffer),
                (true, true) => StatX64(ref cPath, out buffer),
            };
            if (result == 0)
            {
                return true;
            }

            var errno = Marshal.GetLastPInvokeError();
            return errno is ENOENT or ENOTDIR or ELOOP ? false : throw Failure(errno, path, EACCES);
        }

        [DllImport("libc", EntryPoint = "lstat", SetLastError = true, ExactSpelling = true)]
        private static extern int LStatArm64(ref byte path, out Stat buffer);

        [DllImport("libc", EntryPoint = "lstat$INODE64", SetLastError = true, ExactSpelling = true)]
        private static extern int LStatX64(ref byte path, out Stat buffer);

        [DllImport("libc", EntryPoint = "stat", SetLastError = true, ExactSpelling = true)]
        private static extern int StatArm64(ref byte path, out Stat buffer);

        [DllImport("libc", EntryPoint = "stat$INODE64", SetLastError = true, ExactSpelling = true)]
        private static extern int StatX64(ref byte path, out Stat buffer);

        [StructLayout(LayoutKind.Explicit)]
        private readonly struct Timespec
        {
            [FieldOffset(0)] public readonly long Seconds;
            [FieldOffset(8)] public readonly long Nanoseconds;

            public long UnixNs => (Seconds * 1_000_000_000) + Nanoseconds;
        }

        /// <summary>struct stat with __DARWIN_64_BIT_INO_T (sys/stat.h): 144 bytes.</summary>
        [StructLayout(LayoutKind.Explicit, Size = 144)]
        private readonly struct Stat
        {
            [FieldOffset(0)] public readonly int Device;
            [FieldOffset(4)] public readonly ushort Mode;
            [FieldOffset(8)] public readonly ulong Inode;
            [FieldOffset(48)] public readonly Timespec ModifyTime;
            [FieldOffset(64)] public readonly Timespec ChangeTime;
            [FieldOffset(96)] public readonly long Size;
        }
    }

    /// <summary>
    /// Windows: a handle opened for attributes only (no read access, every share mode), then the 64-bit file index,
    /// volume serial and size (GetFileInformationByHandle) and the change time (FILE_BASIC_INFO). A reparse point is
    /// opened as itself first, like lstat; only then is the target opened. Untested here.
    /// </summary>
    internal static class WindowsStat
    {
        private const uint FILE_READ_ATTRIBUTES = 0x80;
        private const uint FILE_SHARE_ALL = 0x1 | 0x2 | 0x4;
        private const uint OPEN_EXISTING = 3;
        private const uint FILE_FLAG_BACKUP_SEMANTICS = 0x02000000; // lets a directory open, so it can be told apart
        private const uint FILE_FLAG_OPEN_REPARSE_POINT = 0x00200000;
        private const uint FILE_ATTRIBUTE_DIRECTORY = 0x10;
        private const uint FILE_ATTRIBUTE_REPARSE_POINT = 0x400;
        private const int FileBasicInfoClass = 0;
        private const int ERROR_FILE_NOT_FOUND = 2;
        private const int ERROR_PATH_NOT_FOUND = 3;
        private const int ERROR_ACCESS_DENIED = 5;
        private const int ERROR_INVALID_NAME = 123;
        private const int ERROR_CANT_RESOLVE_FILENAME = 1921;
        private const long UnixEpochFileTime = 116_444_736_000_000_000;

        public static FileIdentity? Identity(string path)
        {
            var native = NativePath(path);
            if (!TryQuery(native, FILE_FLAG_OPEN_REPARSE_POINT, path, out var own, out var ownBasic))
            {
                return null;
            }

            if ((own.Attributes & FILE_ATTRIBUTE_REPARSE_POINT) == 0)
            {
                return (own.Attributes & FILE_ATTRIBUTE_DIRECTORY) != 0 ? null : IdentityOf(in own, in ownBasic, 0, 0);
            }

            if (!TryQuery(native, 0, path, out var target, out var targetBasic) || (target.Attributes & FILE_ATTRIBUTE_DIRECTORY) != 0)
            {
                return null;
            }

            return IdentityOf(in target, in targetBasic, Index(in own), UnixNs(ownBasic.ChangeTime));
        }

        /// <summary>
        /// The path CreateFileW is given: as is below MAX_PATH (260) or when already prefixed; else with the
        /// <c>\\?\</c> prefix (<c>\\?\UNC\server\share</c> for a UNC path), without which paths of MAX_PATH or more
        /// fail unless long paths are enabled machine-wide (Win32 "Maximum Path Length Limitation").
        /// </summary>
        internal static string NativePath(string path) =>
            path.Length < 260 || path.StartsWith(@"\\?\", StringComparison.Ordinal) ? path
            : path.StartsWith(@"\\", StringComparison.Ordinal) ? @"\\?\UNC\" + path[2..]
            : @"\\?\" + path;

        // The 64-bit index is unique on NTFS; ReFS has 128-bit ids whose low half may repeat, but then the change
        // time and size still take part.
        internal static ulong Index(in ByHandleFileInformation i) => ((ulong)i.IndexHigh << 32) | i.IndexLow;

        /// <summary>A FILETIME (100 ns ticks since 1601-01-01 UTC) as nanoseconds since the Unix epoch, the unit of every stamp.</summary>
        internal static long UnixNs(long fileTime) => (fileTime - UnixEpochFileTime) * 100;

        private static FileIdentity IdentityOf(in ByHandleFileInformation i, in FileBasicInfo b, ulong linkInode, long linkChange) => new(
            (long)(((ulong)i.SizeHigh << 32) | i.SizeLow),
            UnixNs(b.LastWriteTime),
            UnixNs(b.ChangeTime),
            Index(in i),
            i.VolumeSerialNumber,
            linkInode,
            linkChange);

        private static bool TryQuery(string native, uint extraFlags, string path, out ByHandleFileInformation information, out FileBasicInfo basic)
        {
            using var handle = CreateFile(native, FILE_READ_ATTRIBUTES, FILE_SHARE_ALL, IntPtr.Zero, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | extraFlags, IntPtr.Zero);
            if (handle.IsInvalid)
            {
                var error = Marshal.GetLastPInvokeError();
                information = default;
                basic = default;
                return error is ERROR_FILE_NOT_FOUND or ERROR_PATH_NOT_FOUND or ERROR_INVALID_NAME or ERROR_CANT_RESOLVE_FILENAME
                    ? false
                    : throw Failure(error, path, ERROR_ACCESS_DENIED);
            }

            if (!GetFileInformationByHandle(handle, out information) ||
                !GetFileInformationByHandleEx(handle, FileBasicInfoClass, out basic, (uint)Marshal.SizeOf<FileBasicInfo>()))
            {
                throw Failure(Marshal.GetLastPInvokeError(), path, ERROR_ACCESS_DENIED);
            }

            return true;
        }

        [DllImport("kernel32.dll", EntryPoint = "CreateFileW", CharSet = CharSet.Unicode, SetLastError = true, ExactSpelling = true)]
        private static extern SafeFileHandle CreateFile(string fileName, uint desiredAccess, uint shareMode, IntPtr securityAttributes, uint creationDisposition, uint flagsAndAttributes, IntPtr templateFile);

        [DllImport("kernel32.dll", SetLastError = true, ExactSpelling = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        private static extern bool GetFileInformationByHandle(SafeFileHandle file, out ByHandleFileInformation information);

        [DllImport("kernel32.dll", SetLastError = true, ExactSpelling = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        private static extern bool GetFileInformationByHandleEx(SafeFileHandle file, int infoClass, out FileBasicInfo information, uint size);

        /// <summary>BY_HANDLE_FILE_INFORMATION (fileapi.h): 52 bytes, the FILETIMEs as pairs of DWORDs.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal readonly struct ByHandleFileInformation
        {
            public readonly uint Attributes;
            public readonly uint CreationLow, CreationHigh, AccessLow, AccessHigh, WriteLow, WriteHigh;
            public readonly uint VolumeSerialNumber;
            public readonly uint SizeHigh, SizeLow;
            public readonly uint NumberOfLinks;
            public readonly uint IndexHigh, IndexLow;
        }

        /// <summary>FILE_BASIC_INFO (winbase.h): four LARGE_INTEGER times in 100 ns since 1601, then the attributes; 40 bytes.</summary>
        [StructLayout(LayoutKind.Explicit, Size = 40)]
        internal readonly struct FileBasicInfo
        {
            [FieldOffset(16)] public readonly long LastWriteTime;
            [FieldOffset(24)] public readonly long ChangeTime;
        }
    }
}
