using System.Diagnostics;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// The one place the engine makes a <see cref="ProcessStartInfo"/>: step commands, <c>CacheKeyCommand</c>s and
/// <c>VersionCommand</c>s (<see cref="StepProcess"/>) and git (<c>SourceControl.GitCommit</c>) all start from
/// <see cref="StartInfo"/>. Each inherits the build's environment except the remote cache's variables
/// (<c>MLPIPELINES_REMOTE_CACHE_*</c>: the token, the user and password, the signing key): only the engine talks to
/// the cache, and a command that saw them could write them into an output, a log line or an upload to the shared cache.
/// </summary>
public static class ChildProcess
{
    /// <summary>The prefix of the remote cache's variables (<c>Remote.RemoteCacheOptions</c>), none of which a child process gets.</summary>
    public const string RemoteCacheVariablePrefix = "MLPIPELINES_REMOTE_CACHE_";

    /// <summary>
    /// A start info for <paramref name="fileName"/> with its output and error redirected, no shell execution and no
    /// window, and an environment without the remote cache's variables. A caller that adds variables of its own
    /// calls <see cref="RemoveRemoteCacheVariables"/> again afterwards.
    /// </summary>
    public static ProcessStartInfo StartInfo(string fileName, string workingDirectory)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        RemoveRemoteCacheVariables(startInfo);
        return startInfo;
    }

    /// <summary>Removes every <c>MLPIPELINES_REMOTE_CACHE_*</c> variable (any case) from <paramref name="startInfo"/>'s environment.</summary>
    public static void RemoveRemoteCacheVariables(ProcessStartInfo startInfo)
    {
        foreach (var name in startInfo.Environment.Keys.Where(IsRemoteCacheVariable).ToList())
        {
            startInfo.Environment.Remove(name);
        }
    }

    /// <summary>
    /// Removes from <paramref name="startInfo"/>'s environment every variable <paramref name="inherits"/> refuses
    /// (<see cref="StrictEnvironment"/>); called before the caller sets variables of its own, which always stay.
    /// </summary>
    public static void KeepOnly(ProcessStartInfo startInfo, Func<string, bool> inherits)
    {
        foreach (var name in startInfo.Environment.Keys.Where(name => !inherits(name)).ToList())
        {
            startInfo.Environment.Remove(name);
        }
    }

    public static bool IsRemoteCacheVariable(string name) =>
        name.StartsWith(RemoteCacheVariablePrefix, StringComparison.OrdinalIgnoreCase);
}
