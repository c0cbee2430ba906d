using System.Runtime.InteropServices;

namespace MLPipelines.Engine.Keys;

/// <summary>
/// The OS and architecture in .NET's runtime-identifier form (<c>linux-x64</c>, <c>osx-arm64</c>, <c>win-x64</c>):
/// the key component of steps whose results hold native code or platform-specific bytes (<c>Platform="true"</c>).
/// </summary>
public static class HostPlatform
{
    /// <summary>
    /// Built from <see cref="RuntimeInformation"/>, not <see cref="RuntimeInformation.RuntimeIdentifier"/>: that one
    /// names the distribution on a distribution-built .NET (<c>ubuntu.24.04-x64</c>), which would split the keys of
    /// two Linux machines that give the same result. The C library (glibc or musl) is not told apart.
    /// </summary>
    public static string Name { get; } = $"{OperatingSystemName()}-{RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}";

    private static string OperatingSystemName() =>
        OperatingSystem.IsWindows() ? "win"
        : OperatingSystem.IsMacOS() ? "osx"
        : OperatingSystem.IsLinux() ? "linux"
        : OperatingSystem.IsFreeBSD() ? "freebsd"
        : RuntimeInformation.OSDescription.Split(' ', 2)[0].ToLowerInvariant();
}
