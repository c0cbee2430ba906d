using MLPipelines.Engine.Configuration;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// <c>PipelineStrictEnvironment=true</c> (Turborepo's strict environment mode): a step's command and its
/// <c>CacheKeyCommand</c> inherit from the build's environment only the variables the step names in
/// <c>EnvironmentDependencies</c> (keyed), the names of <c>PipelinePassThroughEnvironment</c> (not keyed, Turborepo's
/// <c>passThroughEnv</c>) and <see cref="BaseSet"/> (not keyed); its <c>Environment</c> pairs and <c>PARAM_*</c>
/// variables are set as always. So a variable nobody declared cannot change an output without changing the key.
/// <c>PipelineTool</c> <c>VersionCommand</c>s and git still inherit everything: their output is what is keyed or
/// recorded, so what they read changes the key or the record, never hides from it.
/// </summary>
public sealed class StrictEnvironment
{
    /// <summary>
    /// The variables every step keeps in strict mode, unkeyed; a name ending in <c>*</c> stands for every name that
    /// starts with the rest. Matched as the OS matches variable names: exactly on Unix, where <c>path</c> is not <c>PATH</c>
    /// and would reach the step unkeyed; ignoring case on Windows (which spells them <c>Path</c> or <c>SYSTEMROOT</c>).
    /// Modelled on Turborepo's default pass-through list for strict mode, without its Vercel, IDE and Docker entries, plus
    /// what the .NET SDK reads (<c>DOTNET_*</c>, <c>NUGET_*</c>): what a shell, a compiler and <c>dotnet run</c> need
    /// to start and find their tools, temp folder and package caches. None of it is in the key, as in Turborepo: PATH
    /// differs between machines that build the same thing; a step whose output depends on one of them (a locale-
    /// sensitive sort reading <c>LANG</c>, <c>TZ</c>) names it in <c>EnvironmentDependencies</c>, which keys it.
    /// </summary>
    public static readonly IReadOnlyList<string> BaseSet =
    [
        // Unix and macOS: the shell, the user, the terminal, the locale, temp folders, the dynamic loader, CI markers.
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD", "TERM", "COLORTERM", "TZ", "LANG", "LANGUAGE", "LC_*",
        "TMPDIR", "TMP", "TEMP", "XDG_RUNTIME_DIR", "LD_LIBRARY_PATH", "DYLD_FALLBACK_LIBRARY_PATH", "CI",
        // The .NET SDK and NuGet: DOTNET_ROOT, DOTNET_CLI_HOME, NUGET_PACKAGES, ...
        "DOTNET_*", "NUGET_*",
        // Windows: what cmd, the loader and most programs need to start at all.
        "SystemRoot", "SystemDrive", "WINDIR", "ComSpec", "PATHEXT", "USERPROFILE", "HOMEDRIVE", "HOMEPATH", "APPDATA",
        "LOCALAPPDATA", "ProgramData", "ProgramFiles", "ProgramFiles(x86)", "ProgramW6432", "CommonProgramFiles",
        "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE", "OS",
    ];

    // Names the user gives (EnvironmentDependencies, PipelinePassThroughEnvironment) are matched as the OS matches
    // variable names: exactly on Unix, where FOO and Foo are two variables, ignoring case on Windows.
    private static readonly StringComparison NameComparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private readonly IReadOnlyList<string> _passThrough;

    /// <param name="passThrough"><c>PipelinePassThroughEnvironment</c>: names (or <c>PREFIX*</c>) every step inherits, unkeyed.</param>
    public StrictEnvironment(IReadOnlyList<string> passThrough) => _passThrough = passThrough;

    public IReadOnlyList<string> PassThrough => _passThrough;

    /// <summary>Whether <paramref name="name"/> is one of <see cref="BaseSet"/>.</summary>
    public static bool IsInBaseSet(string name) => BaseSet.Any(pattern => Matches(pattern, name, NameComparison));

    /// <summary>Which of the build's variables <paramref name="step"/>'s processes inherit (the rest are removed).</summary>
    public Func<string, bool> InheritedBy(StepDefinition step) => name =>
        IsInBaseSet(name) ||
        _passThrough.Any(pattern => Matches(pattern, name, NameComparison)) ||
        step.EnvironmentDependencies.Any(declared => string.Equals(declared, name, NameComparison));

    private static bool Matches(string pattern, string name, StringComparison comparison) =>
        pattern.EndsWith('*')
            ? name.StartsWith(pattern[..^1], comparison)
            : string.Equals(pattern, name, comparison);
}
