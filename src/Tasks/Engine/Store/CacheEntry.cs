using System.Text.Json.Serialization;
using MLPipelines.Engine.Keys;

namespace MLPipelines.Engine.Store;

/// <summary>
/// One stored output file: project-relative path (<c>/</c>-separated), content hash (the object's name: 32 lowercase
/// hex digits of XxHash128), size in bytes and Unix permission bits (0 on Windows).
/// </summary>
public sealed record ManifestFile(string Path, string Hash, long Size, int Mode);

/// <summary>
/// One stored symbolic link among a step's outputs: project-relative path of the link and its target exactly as the
/// link holds it (always relative: a link whose target leaves the project is never stored).
/// </summary>
public sealed record ManifestLink(string Path, string Target);

/// <summary>A successful step result in the store: its key, what went into it, and the outputs it restores.</summary>
public sealed record CacheEntry
{
    public long Id { get; init; }
    public required string Pipeline { get; init; }
    public required string Step { get; init; }
    public required string Key { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset LastUsedAt { get; init; }
    public TimeSpan Duration { get; init; }
    public required IReadOnlyList<KeyComponent> Components { get; init; }
    public required IReadOnlyList<ManifestFile> Manifest { get; init; }

    /// <summary>
    /// Every directory of the outputs, project-relative with a trailing <c>/</c>: each declared output directory and
    /// every directory below it, so a hit recreates the empty ones and a folder's shape is restored exactly.
    /// </summary>
    public IReadOnlyList<string> Directories { get; init; } = [];

    /// <summary>Symbolic links among the outputs, restored as links (SPEC <c>Outputs</c>).</summary>
    public IReadOnlyList<ManifestLink> Links { get; init; } = [];
    public string? RunId { get; init; }

    /// <summary>
    /// The object holding what the step printed when it ran (<c>Execution.StepLog</c>: at most 1 MiB of UTF-8
    /// lines), named by its hash like an output's; null when the step printed nothing or an older engine stored the
    /// entry. Not an output: never restored into the project, only replayed (<c>PipelineReplayLogs</c>).
    /// </summary>
    public string? LogHash { get; init; }

    /// <summary>The size in bytes of the <see cref="LogHash"/> object; 0 without one.</summary>
    public long LogSize { get; init; }

    public long TotalSize => Manifest.Sum(f => f.Size);
}

// A store is untrusted input: a null or missing field of a record (a manifest path, a link target) fails to read, so
// the entry is corrupt, instead of reaching the restore as a null.
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(List<KeyComponent>))]
[JsonSerializable(typeof(List<ManifestFile>))]
[JsonSerializable(typeof(List<ManifestLink>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(SortedDictionary<string, string>))]
[JsonSerializable(typeof(SortedDictionary<string, double>))]
internal sealed partial class StoreJson : JsonSerializerContext;
