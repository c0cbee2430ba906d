using System.Diagnostics;

namespace MLPipelines.Tasks.Tests.TestKit;

/// <summary>Runs a /bin/sh command line, as a user would type it (<c>cp -p</c>, <c>ln -sfn</c>, <c>touch -d</c>).</summary>
internal static class Shell
{
    /// <summary>Runs <paramref name="command"/> in <paramref name="workingDirectory"/>; fails the test on a non-zero exit.</summary>
    public static void Run(string workingDirectory, string command)
    {
        var start = new ProcessStartInfo("/bin/sh", ["-c", command])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"'{command}' exited with {process.ExitCode}: {stdout}{stderr.Result}");
    }
}
