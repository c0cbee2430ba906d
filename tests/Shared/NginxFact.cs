namespace MLPipelines.Testing;

/// <summary>
/// Why a test that needs a real nginx (<see cref="NginxServer"/>) is skipped, or null when it runs. On Linux it always
/// runs: .ci/run installs the Debian package, so a missing nginx there is a broken CI machine and fails loudly. On
/// Windows and macOS (the cross-platform workflow) it runs when nginx is installed and is skipped, saying why, when not.
/// </summary>
internal static class NginxRequirement
{
    public static string? SkipReason =>
        OperatingSystem.IsLinux() || NginxServer.Find() is not null
            ? null
            : "needs nginx (WebDAV PUT) for the remote cache, and none is installed on this machine: on macOS `brew install nginx`; the Linux CI job always runs it";
}

/// <summary>A <see cref="FactAttribute"/> for a test that starts <see cref="NginxServer"/>: skipped with the reason off Linux when nginx is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NginxFactAttribute : FactAttribute
{
    public NginxFactAttribute()
    {
        if (NginxRequirement.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A <see cref="TheoryAttribute"/> for a test that starts <see cref="NginxServer"/>: skipped with the reason off Linux when nginx is absent.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NginxTheoryAttribute : TheoryAttribute
{
    public NginxTheoryAttribute()
    {
        if (NginxRequirement.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
