namespace MLPipelines.Engine.Store;

/// <summary>
/// How <see cref="CacheStore.Open"/> opens a store. The defaults are the product's; tests inject an engine of another
/// schema, a short busy timeout or a file-system kind.
/// </summary>
public sealed record StoreSettings
{
    /// <summary>The schema this engine speaks (see <see cref="CacheStore.SchemaVersion"/>).</summary>
    public int SchemaVersion { get; init; } = CacheStore.SchemaVersion;

    /// <summary>Written into a store this engine creates: the oldest engine schema allowed to write it.</summary>
    public int MinWriterSchemaVersion { get; init; } = CacheStore.MinWriterSchemaVersion;

    /// <summary>
    /// How long a statement waits for another build's write lock before it gives up (SQLite's <c>busy_timeout</c>).
    /// 30 s: far longer than any write transaction of the engine, which are all a few statements; garbage collection
    /// deletes files outside its transaction. What gives up is handled as a miss or a result not stored, never a
    /// failed build.
    /// </summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The file system the store lies on; null detects it (<see cref="FileSystems.KindOf"/>).</summary>
    public FileSystemKind? FileSystem { get; init; }
}
