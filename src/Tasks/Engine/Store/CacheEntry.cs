using System.Text.Json.Serialization;
using MLPipelines.Engine.Keys;

namespace MLPipelines.Engine.Store;

/// <summary>One stored output file: project-relative path, content hash (the object's name), size and Unix mode.</summary>
public sealed record ManifestFile(string Path, string Hash, long Size, int Mode);

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

    /// <summary>Declared output directories, so a hit can recreate one the step left empty.</summary>
    public IReadOnlyList<string> Directories { get; init; } = [];
    public string? RunId { get; init; }
    public long TotalSize => Manifest.Sum(f => f.Size);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<KeyComponent>))]
[JsonSerializable(typeof(List<ManifestFile>))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class StoreJson : JsonSerializerContext;
