using System.Diagnostics;
using System.Runtime.InteropServices;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Tasks.Tests.Windows;

/// <summary>
/// The Windows code paths that run on any platform (issue 11 item 16): how a step's command reaches cmd, how a
/// stamp's Windows parts are read (the native structs' layouts, times, long paths) and how Windows-written paths are
/// normalised. What only a Windows machine can prove is run by .github/workflows/ci.yml (README "CI workflows").
/// </summary>
public sealed class WindowsCommandPathTests
{
    private static ProcessStartInfo ShellFor(string command, bool windows, string? comSpec = null, string? setsid = null)
    {
        var startInfo = new ProcessStartInfo();
        StepProcess.SetShell(startInfo, command, windows, comSpec, setsid);
        return startInfo;
    }

    [Fact]
    public void OnWindowsTheCommandGoesToComSpecWithDSAndCAsOneRawArgumentString()
    {
        var startInfo = ShellFor("echo a\necho b", windows: true, comSpec: @"C:\Windows\system32\cmd.exe");

        Assert.Equal(@"C:\Windows\system32\cmd.exe", startInfo.FileName);
        Assert.Equal("/d /s /c \"echo a && echo b\"", startInfo.Arguments);
        Assert.Empty(startInfo.ArgumentList); // An argument list would be re-quoted by the C runtime's rules.
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void WithoutComSpecItIsCmdExe(string? comSpec) =>
        Assert.Equal("cmd.exe", ShellFor("echo a", windows: true, comSpec: comSpec).FileName);

    [Theory]
    // With /s cmd strips only the outer pair: quotes inside, spaces, redirections and carets reach it as written.
    [InlineData("\"C:\\Program Files\\tool.exe\" \"a b\" > \"out dir\\x.txt\"", "/d /s /c \"\"C:\\Program Files\\tool.exe\" \"a b\" > \"out dir\\x.txt\"\"")]
    [InlineData("echo 100%% ^& more", "/d /s /c \"echo 100%% ^& more\"")]
    [InlineData("copy a.txt b.txt\r\nif errorlevel 1 exit /b 1", "/d /s /c \"copy a.txt b.txt && if errorlevel 1 exit /b 1\"")]
    [InlineData("rem only a comment", "/d /s /c \"\"")]
    public void CmdArgumentsKeepTheCommandAsWrittenBetweenOneOuterPairOfQuotes(string command, string expected) =>
        Assert.Equal(expected, StepProcess.CmdArguments(command));

    [Fact]
    public void OnUnixTheCommandIsOneArgumentOfShDashEThroughSetsidWhenThereIsOne()
    {
        var grouped = ShellFor("echo \"a b\"", windows: false, setsid: "/usr/bin/setsid");
        Assert.Equal("/usr/bin/setsid", grouped.FileName);
        Assert.Equal(["/bin/sh", "-e", "-c", "echo \"a b\""], grouped.ArgumentList);

        // macOS has no setsid: the shell is started directly (and cancellation kills its process tree instead).
        var plain = ShellFor("echo a", windows: false);
        Assert.Equal("/bin/sh", plain.FileName);
        Assert.Equal(["-e", "-c", "echo a"], plain.ArgumentList);
        Assert.Equal("", plain.Arguments);
    }

    [Fact]
    public void TheStampStructsHaveTheLayoutsOfTheWindowsHeaders()
    {
        // BY_HANDLE_FILE_INFORMATION (fileapi.h): 13 DWORDs; serial at 28, size at 32/36, file index at 44/48.
        Assert.Equal(52, Marshal.SizeOf<FileStat.WindowsStat.ByHandleFileInformation>());
        Assert.Equal(28, (int)Marshal.OffsetOf<FileStat.WindowsStat.ByHandleFileInformation>(nameof(FileStat.WindowsStat.ByHandleFileInformation.VolumeSerialNumber)));
        Assert.Equal(32, (int)Marshal.OffsetOf<FileStat.WindowsStat.ByHandleFileInformation>(nameof(FileStat.WindowsStat.ByHandleFileInformation.SizeHigh)));
        Assert.Equal(44, (int)Marshal.OffsetOf<FileStat.WindowsStat.ByHandleFileInformation>(nameof(FileStat.WindowsStat.ByHandleFileInformation.IndexHigh)));
        Assert.Equal(48, (int)Marshal.OffsetOf<FileStat.WindowsStat.ByHandleFileInformation>(nameof(FileStat.WindowsStat.ByHandleFileInformation.IndexLow)));
        // FILE_BASIC_INFO (winbase.h): CreationTime, LastAccessTime, LastWriteTime, ChangeTime, FileAttributes (+ padding).
        Assert.Equal(40, Marshal.SizeOf<FileStat.WindowsStat.FileBasicInfo>());
        Assert.Equal(16, (int)Marshal.OffsetOf<FileStat.WindowsStat.FileBasicInfo>(nameof(FileStat.WindowsStat.FileBasicInfo.LastWriteTime)));
        Assert.Equal(24, (int)Marshal.OffsetOf<FileStat.WindowsStat.FileBasicInfo>(nameof(FileStat.WindowsStat.FileBasicInfo.ChangeTime)));
    }

    [Fact]
    public void AFileTimeBecomesUnixNanosecondsAtFullPrecision()
    {
        var someTime = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero).AddTicks(1234567);

        Assert.Equal(0, FileStat.WindowsStat.UnixNs(DateTimeOffset.UnixEpoch.ToFileTime()));
        Assert.Equal((someTime - DateTimeOffset.UnixEpoch).Ticks * 100, FileStat.WindowsStat.UnixNs(someTime.ToFileTime()));
        Assert.Equal(100, FileStat.WindowsStat.UnixNs(DateTimeOffset.UnixEpoch.ToFileTime() + 1)); // One tick is 100 ns, none lost.
    }

    [Fact]
    public void TheFileIndexJoinsItsHighAndLowHalves()
    {
        var information = MemoryMarshal.Read<FileStat.WindowsStat.ByHandleFileInformation>(
            Enumerable.Range(0, 52).Select(i => i switch { 44 => (byte)0x01, 48 => (byte)0x02, _ => (byte)0 }).ToArray());

        Assert.Equal(0x0000_0001_0000_0002UL, FileStat.WindowsStat.Index(in information));
    }

    [Fact]
    public void LongPathsGetTheExtendedPrefixAndShortOnesAreLeftAlone()
    {
        var longTail = string.Join('\\', Enumerable.Repeat("folder-name", 30));

        Assert.Equal(@"C:\data\x.csv", FileStat.WindowsStat.NativePath(@"C:\data\x.csv"));
        Assert.Equal(@"\\?\C:\" + longTail, FileStat.WindowsStat.NativePath(@"C:\" + longTail));
        Assert.Equal(@"\\?\UNC\server\share\" + longTail, FileStat.WindowsStat.NativePath(@"\\server\share\" + longTail));
        Assert.Equal(@"\\?\D:\" + longTail, FileStat.WindowsStat.NativePath(@"\\?\D:\" + longTail));
    }

    [Theory]
    [InlineData(@"data\train.csv", "data/train.csv")]
    [InlineData(@"models\best\", "models/best/")]
    [InlineData(@".\raw\..\raw\iris.csv", "raw/iris.csv")]
    public void PathsWrittenWithBackslashesGetTheKeysOfSlashedOnes(string windowsStyle, string expected)
    {
        using var project = new TestKit.TempDirectory();

        Assert.True(ProjectPath.TryNormalize(project.Path, windowsStyle, out var normalized));
        Assert.Equal(expected, normalized);
    }
}
