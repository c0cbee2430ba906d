namespace MLPipelines.Engine.Keys;

/// <summary>
/// One described part of a cache key: what it is (<see cref="Kind"/>, <see cref="Name"/>), its hash, and its value
/// when that is short and not secret. Entries keep their components so a miss can name what changed.
/// </summary>
public sealed record KeyComponent(string Kind, string Name, string Hash, string? Value = null);

/// <summary>The kinds of key components; stable strings, since they are stored with every entry.</summary>
public static class ComponentKind
{
    public const string Format = "format";
    public const string Pipeline = "pipeline";
    public const string Step = "step";
    public const string Settings = "settings";
    public const string Command = "command";
    public const string WorkingDirectory = "workdir";
    public const string StepEnvironment = "env";
    public const string Code = "code";
    public const string Parameter = "param";
    public const string Input = "input";
    public const string Output = "output";
    public const string DependsOn = "dependsOn";

    /// <summary>An upstream step's outputs, by content (<see cref="OutputsDigest"/>); the name is the upstream step's.</summary>
    public const string UpstreamOutputs = "upstreamOutputs";
    public const string CacheVersion = "cacheVersion";
    public const string FileDependency = "fileDep";
    public const string SourceDependency = "sourceDep";
    public const string EnvironmentDependency = "envDep";
    public const string KeyCommand = "keyCommand";

    /// <summary>A <c>PipelineTool</c>'s version, in clear (versions are not secrets, and a miss quotes them); the name is the tool's.</summary>
    public const string Tool = "tool";

    /// <summary>The OS and architecture the step runs on (<see cref="HostPlatform"/>), for steps that opt in.</summary>
    public const string Platform = "platform";
}

/// <summary>A computed key: its value and the components folded into it, in canonical order.</summary>
public sealed record StepKey(string Value, IReadOnlyList<KeyComponent> Components)
{
    /// <summary>
    /// What the calculator noticed but did not fail on (MLP2010: a glob that matched no file), for the caller to log:
    /// the calculator has no log. Not part of the key.
    /// </summary>
    public IReadOnlyList<PipelineDiagnostic> Warnings { get; init; } = [];
}
