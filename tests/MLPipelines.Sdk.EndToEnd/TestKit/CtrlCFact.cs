namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>
/// A <see cref="FactAttribute"/> for a test that presses Ctrl+C (SIGINT) on a build. A process started with SIGINT
/// ignored passes that on to every child, and .NET then leaves it ignored (as a shell's `nohup cmd &amp;` or a
/// background job without job control asks): `dotnet build` never sees the signal and the test could only time out.
/// Then it is skipped, saying why; CI's foreground `.ci/run` always runs it. Linux only, like the tests themselves
/// (they walk /proc).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class CtrlCFactAttribute : FactAttribute
{
    public CtrlCFactAttribute()
    {
        if (SigIntIgnored())
        {
            Skip = "SIGINT is ignored in this test host (started in the background without job control, e.g. `nohup dotnet test &`), so no build it starts can be cancelled by Ctrl+C: run the tests in the foreground";
        }
    }

    /// <summary>Bit 2 (SIGINT) of the SigIgn mask in /proc/self/status (proc(5)).</summary>
    private static bool SigIntIgnored()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null
            && ulong.TryParse(line["SigIgn:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var mask)
            && (mask & (1UL << (2 - 1))) != 0;
    }
}
