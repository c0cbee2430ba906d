using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Keys;
using MLPipelines.Engine.Store;
using MLPipelines.Tasks.Tests.TestKit;
using Microsoft.Data.Sqlite;

namespace MLPipelines.Tasks.Tests.Store;

/// <summary>
/// The store under faults: a newer engine's store, a damaged entry replaced concurrently, a collection racing a build,
/// a network file system.
/// </summary>
public sealed class StoreFaultTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string StoreDirectory => _directory.Combine(".mlpipelines");

    private CacheEntry Entry(CacheStore store, string key, string content)
    {
        var file = store.Objects.Add(_directory.Write("work/" + Guid.NewGuid().ToString("N"), content));
        return new CacheEntry
        {
            Pipeline = "iris",
            Step = "train",
            Key = key,
            CreatedAt = Now,
            Duration = TimeSpan.FromSeconds(1),
            Components = [new(ComponentKind.Format, "", ContentHash.OfText("1"), "1")],
            Manifest = [new("model.bin", file.Hash, file.Size, 0b110_100_100)],
            Directories = [],
        };
    }

    private SqliteConnection Connect(int busyTimeoutMs = 5000)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(StoreDirectory, "cache.db"),
            Pooling = false,
            DefaultTimeout = 1,
        }.ToString());
        connection.Open();
        Run(connection, $"PRAGMA busy_timeout = {busyTimeoutMs}");
        return connection;
    }

    private static object? Run(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private void SetMeta(string name, string value)
    {
        using var connection = Connect();
        Run(connection, $"INSERT OR REPLACE INTO meta (name, value) VALUES ('{name}', '{value}')");
    }

    /// <summary>Every file of the store but the SQLite side files and the .gitignore, with its bytes.</summary>
    private Dictionary<string, string> Snapshot() =>
        Directory.EnumerateFiles(StoreDirectory, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith("-wal", StringComparison.Ordinal) && !f.EndsWith("-shm", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(StoreDirectory, f), f => Convert.ToHexString(File.ReadAllBytes(f)));

    private void AgeObjects(TimeSpan age)
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(StoreDirectory, "objects"), "*", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow - age);
        }
    }

    // 1. Schema versions go forward only.

    [Fact]
    public void AStoreANewerEngineForbidsThisOneToWriteIsLeftByteForByteAsItWas()
    {
        using (var store = CacheStore.Open(StoreDirectory))
        {
            Assert.True(store.RecordEntry(Entry(store, "k1", "model")));
            _directory.Write("work/orphan", "orphan");
            store.Objects.Add(_directory.Combine("work/orphan"));
        }

        SetMeta("schema", "99");
        SetMeta("min_writer_schema", "99");
        AgeObjects(TimeSpan.FromDays(30));
        var before = Snapshot();

        using (var store = CacheStore.Open(StoreDirectory))
        {
            Assert.Equal(99, store.NewerSchema);
            Assert.False(store.WasReset);
            Assert.Null(store.FindEntry("k1"));
            Assert.Empty(store.LoadFileStamps());
            // Everything a run does afterwards goes to the scratch store, never to the newer one.
            Assert.True(store.RecordEntry(Entry(store, "k2", "other")));
            store.SaveFileStamps(new Dictionary<string, FileStamp> { ["/x"] = new(new FileIdentity(1, 1, 1, 1, 1, 0, 0), ContentHash.OfText("x"), 1) });
            store.StartRun(new RunRecord("r1", "iris", Now, "running", null));
            store.Prune(Now.AddDays(365), TimeSpan.FromDays(1), maxSize: 0);
            Assert.NotEqual(Path.Combine(StoreDirectory, "objects"), store.Objects.Root);
        }

        Assert.Equal(before, Snapshot());
        using var connection = Connect();
        Assert.Equal("99", Run(connection, "SELECT value FROM meta WHERE name = 'schema'"));
        Assert.Equal(1L, Run(connection, "SELECT COUNT(*) FROM entries"));
    }

    [Fact]
    public void AnEngineOlderThanTheStoresMinimumWriterSeesTodaysStoreAsNewer()
    {
        using (var store = CacheStore.Open(StoreDirectory))
        {
            Assert.True(store.RecordEntry(Entry(store, "k1", "model")));
        }

        using var older = CacheStore.Open(StoreDirectory, new StoreSettings { SchemaVersion = CacheStore.MinWriterSchemaVersion - 1 });

        Assert.Equal(CacheStore.SchemaVersion, older.NewerSchema);
        Assert.Null(older.FindEntry("k1"));
    }

    [Fact]
    public void ANewerStoreThatLetsThisEngineWriteIsUsedAndKeepsItsSchema()
    {
        using (var store = CacheStore.Open(StoreDirectory))
        {
            Assert.True(store.RecordEntry(Entry(store, "k1", "model")));
        }

        SetMeta("schema", "99");
        SetMeta("min_writer_schema", CacheStore.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));

        using (var store = CacheStore.Open(StoreDirectory))
        {
            Assert.Null(store.NewerSchema);
            Assert.NotNull(store.FindEntry("k1"));
        }

        using var connection = Connect();
        Assert.Equal("99", Run(connection, "SELECT value FROM meta WHERE name = 'schema'"));
    }

    [Fact]
    public void AStoreOfAnOlderSchemaIsEmptiedAndTakesThisSchema()
    {
        using (var store = CacheStore.Open(StoreDirectory, new StoreSettings { SchemaVersion = 2, MinWriterSchemaVersion = 2 }))
        {
            Assert.True(store.RecordEntry(Entry(store, "k1", "model")));
        }

        using (var store = CacheStore.Open(StoreDirectory))
        {
            Assert.True(store.WasReset);
            Assert.Null(store.NewerSchema);
            Assert.Empty(store.AllEntries());
            Assert.Empty(Directory.EnumerateFiles(store.Objects.Root, "*", SearchOption.AllDirectories));
        }

        using var connection = Connect();
        Assert.Equal(CacheStore.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), Run(connection, "SELECT value FROM meta WHERE name = 'schema'"));
        Assert.Equal(CacheStore.MinWriterSchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), Run(connection, "SELECT value FROM meta WHERE name = 'min_writer_schema'"));
    }

    [Fact]
    public void AStoreOfSchema4IsUpgradedInPlaceKeepingItsEntriesAndRecordsRemoteCountsAndTools()
    {
        using (var store = CacheStore.Open(StoreDirectory))
        {
            Assert.True(store.RecordEntry(Entry(store, "k1", "model")));
        }

        // Schema 4's layout: today's without the columns schema 5 added.
        using (var connection = Connect())
        {
            Run(connection, "ALTER TABLE runs DROP COLUMN remote_hits; ALTER TABLE runs DROP COLUMN remote_uploads; ALTER TABLE runs DROP COLUMN tools; ALTER TABLE step_runs DROP COLUMN source; UPDATE meta SET value = '4' WHERE name = 'schema'");
        }

        using (var store = CacheStore.Open(StoreDirectory))
        {
            Assert.False(store.WasReset);
            Assert.NotNull(store.FindEntry("k1"));
            var started = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
            store.StartRun(new RunRecord("r1", "p", started, "running", null));
            store.FinishRun(new RunRecord("r1", "p", started, "succeeded", null)
            {
                EndedAt = started.AddSeconds(1),
                RemoteUploads = 2,
                Tools = new Dictionary<string, string> { ["python"] = "Python 3.12.1" },
            },
            [
                new StepRunRecord("a", "k1", null, "cached", null, started, TimeSpan.Zero) { Remote = true },
                new StepRunRecord("b", "k2", null, "cached", null, started, TimeSpan.Zero),
            ]);
            var run = Assert.Single(store.ListRuns(10));
            Assert.Equal(1, run.RemoteHits);
            Assert.Equal(2, run.RemoteUploads);
            Assert.Equal("Python 3.12.1", run.Tools!["python"]);
            Assert.True(store.FindRunSteps("r1")!.Single(s => s.Step == "a").Remote);
            Assert.False(store.FindRunSteps("r1")!.Single(s => s.Step == "b").Remote);
        }

        using var check = Connect();
        Assert.Equal(CacheStore.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), Run(check, "SELECT value FROM meta WHERE name = 'schema'"));
    }

    // 2. A damaged entry is deleted by its row id.

    [Fact]
    public void DeletingADamagedEntryLeavesAConcurrentReplacementOfTheSameKey()
    {
        using var store = CacheStore.Open(StoreDirectory);
        Assert.True(store.RecordEntry(Entry(store, "k1", "damaged one")));
        var damaged = store.FindEntry("k1")!;
        // Another build replaces the entry of the same key (a fresh result) before this one deletes what it found.
        Assert.True(store.RecordEntry(Entry(store, "k1", "fresh one")));
        var fresh = store.FindEntry("k1")!;
        Assert.NotEqual(damaged.Id, fresh.Id);

        store.DeleteEntry(damaged.Id);

        var left = Assert.Single(store.AllEntries());
        Assert.Equal(fresh.Id, left.Id);
        Assert.Equal(ContentHash.OfText("fresh one"), left.Manifest[0].Hash);
    }

    // 3. Garbage collection: grace period, and no write lock while it deletes.

    [Fact]
    public void ACollectionKeepsAYoungUnreferencedObjectAndDeletesAnOldOne()
    {
        using var store = CacheStore.Open(StoreDirectory);
        var old = store.Objects.Add(_directory.Write("work/old", "old orphan"));
        File.SetLastWriteTimeUtc(store.Objects.PathOf(old.Hash), DateTime.UtcNow - CacheStore.ObjectGrace - TimeSpan.FromMinutes(5));
        // Written just now by a build that has not recorded its entry yet.
        var young = store.Objects.Add(_directory.Write("work/young", "young orphan"));

        var report = store.CollectGarbage(Now);

        Assert.False(store.Objects.Contains(old.Hash));
        Assert.True(store.Objects.Contains(young.Hash));
        Assert.Equal((1, old.Size, 1), (report.Objects, report.Bytes, report.Young));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Objects.Root, "tmp")));
    }

    [Fact]
    public void StoringContentAnOldObjectAlreadyHoldsFreshensItSoACollectionKeepsIt()
    {
        using var store = CacheStore.Open(StoreDirectory);
        var first = store.Objects.Add(_directory.Write("work/a", "same bytes"));
        File.SetLastWriteTimeUtc(store.Objects.PathOf(first.Hash), DateTime.UtcNow - TimeSpan.FromDays(3));

        // A build finds the content already stored (unreferenced, old) and is about to record an entry naming it.
        var again = store.Objects.Add(_directory.Write("work/b", "same bytes"));
        store.CollectGarbage(Now);

        Assert.Equal(first.Hash, again.Hash);
        Assert.True(store.Objects.Contains(again.Hash));
    }

    [Fact]
    public void AMarkThatIsNotDueNeedsNoWriteLock()
    {
        using var store = CacheStore.Open(StoreDirectory, new StoreSettings { BusyTimeout = TimeSpan.FromMilliseconds(100) });
        Assert.True(store.MarkDue("last_gc", Now, TimeSpan.FromDays(1)));

        // Another build holds the write lock: a run's check of a recent mark is a read, so it neither waits nor fails.
        using var other = Connect(busyTimeoutMs: 0);
        Run(other, "BEGIN IMMEDIATE");
        Assert.False(store.MarkDue("last_gc", Now.AddHours(1), TimeSpan.FromDays(1)));
        Run(other, "ROLLBACK");

        Assert.True(store.MarkDue("last_gc", Now.AddDays(2), TimeSpan.FromDays(1)));
        Assert.False(store.MarkDue("last_gc", Now.AddDays(2), TimeSpan.FromDays(1)));
    }

    [Fact]
    public void ACollectionDeletesObjectsWithoutHoldingTheWriteLock()
    {
        using var store = CacheStore.Open(StoreDirectory);
        var orphan = store.Objects.Add(_directory.Write("work/orphan", "orphan"));
        AgeObjects(TimeSpan.FromDays(2));
        var writes = 0;
        store.ObjectCollecting = _ =>
        {
            // Another build writes while the collection is about to delete: it must not wait for a lock.
            using var other = Connect(busyTimeoutMs: 0);
            Run(other, "BEGIN IMMEDIATE");
            Run(other, "INSERT OR REPLACE INTO meta (name, value) VALUES ('probe', 'written')");
            Run(other, "COMMIT");
            writes++;
        };

        var report = store.CollectGarbage(Now);

        Assert.Equal(1, writes);
        Assert.Equal(1, report.Objects);
        Assert.False(store.Objects.Contains(orphan.Hash));
    }

    [Fact]
    public void AnObjectFreshenedBetweenTheDecisionAndTheDeletionIsKept()
    {
        using var store = CacheStore.Open(StoreDirectory);
        var orphan = store.Objects.Add(_directory.Write("work/orphan", "orphan"));
        AgeObjects(TimeSpan.FromDays(2));
        // A build stores the same content (and records its entry) just as the collection reaches the object.
        store.ObjectCollecting = _ =>
        {
            var again = store.Objects.Add(_directory.Write("work/again", "orphan"));
            Assert.True(store.RecordEntry(Entry(store, "k1", "orphan")));
            Assert.Equal(orphan.Hash, again.Hash);
        };

        var report = store.CollectGarbage(Now);

        Assert.Equal(0, report.Objects);
        Assert.True(store.Objects.Contains(orphan.Hash));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(store.Objects.Root, "tmp")));
    }

    [Fact]
    public void ClearingFreesTheObjectsOfTheEntriesItDeletedAtOnceHoweverYoung()
    {
        using var store = CacheStore.Open(StoreDirectory);
        var entry = Entry(store, "k1", "just trained");
        Assert.True(store.RecordEntry(entry));
        // An unrelated young orphan (a build that has not recorded its entry yet) keeps its grace period.
        var pending = store.Objects.Add(_directory.Write("work/pending", "pending"));

        var report = store.Clear("iris", [], Now);

        Assert.False(store.Objects.Contains(entry.Manifest[0].Hash));
        Assert.True(store.Objects.Contains(pending.Hash));
        Assert.Equal((1, 1, 1), (report.Entries, report.Objects, report.Young));
    }

    [Fact]
    public void PruningBySizeFreesTheObjectsOfTheEntriesItDeletedAtOnce()
    {
        using var store = CacheStore.Open(StoreDirectory);
        var entry = Entry(store, "k1", "a result too big for the cap");
        Assert.True(store.RecordEntry(entry));

        var report = store.Prune(Now, TimeSpan.FromDays(28), maxSize: 1);

        Assert.Equal((1, 1), (report.Entries, report.Objects));
        Assert.False(store.Objects.Contains(entry.Manifest[0].Hash));
    }

    [Fact]
    public void AnObjectOfAClearedEntryThatABuildFreshensBeforeItsDeletionIsKept()
    {
        using var store = CacheStore.Open(StoreDirectory);
        var entry = Entry(store, "k1", "shared bytes");
        Assert.True(store.RecordEntry(entry));
        File.SetLastWriteTimeUtc(store.Objects.PathOf(entry.Manifest[0].Hash), DateTime.UtcNow - TimeSpan.FromSeconds(5));
        // Another build stores the same content and records its own entry after the clear decided.
        store.ObjectCollecting = _ => Assert.True(store.RecordEntry(Entry(store, "k2", "shared bytes")));

        var report = store.Clear("iris", ["train"], Now);

        Assert.Equal(0, report.Objects);
        Assert.True(store.Objects.Contains(entry.Manifest[0].Hash));
    }

    // 5. Network file systems.

    [Theory]
    [InlineData(0x6969u, FileSystemKind.Network)]      // NFS
    [InlineData(0x517Bu, FileSystemKind.Network)]      // SMB
    [InlineData(0xFF534D42u, FileSystemKind.Network)]  // CIFS
    [InlineData(0xFE534D42u, FileSystemKind.Network)]  // SMB2
    [InlineData(0xEF53u, FileSystemKind.Local)]        // ext4
    [InlineData(0x01021994u, FileSystemKind.Local)]    // tmpfs
    [InlineData(0x9123683Eu, FileSystemKind.Local)]    // btrfs
    [InlineData(0x58465342u, FileSystemKind.Local)]    // xfs
    public void LinuxFileSystemMagicNumbersTellNetworkFromLocal(uint magic, FileSystemKind expected) =>
        Assert.Equal(expected, FileSystems.FromLinuxMagic(magic));

    [Theory]
    [InlineData("nfs", FileSystemKind.Network)]
    [InlineData("smbfs", FileSystemKind.Network)]
    [InlineData("cifs", FileSystemKind.Network)]
    [InlineData("apfs", FileSystemKind.Local)]
    [InlineData("hfs", FileSystemKind.Local)]
    public void MacFileSystemTypeNamesTellNetworkFromLocal(string name, FileSystemKind expected) =>
        Assert.Equal(expected, FileSystems.FromTypeName(name));

    [Fact]
    public void TheTestMachinesTempFolderIsLocal() =>
        Assert.Equal(FileSystemKind.Local, FileSystems.KindOf(_directory.Path));

    [Theory]
    [InlineData(FileSystemKind.Network, "delete")]
    [InlineData(FileSystemKind.Local, "wal")]
    public void AStoreOnANetworkFileSystemUsesTheRollbackJournalNotWal(FileSystemKind kind, string journal)
    {
        using (var store = CacheStore.Open(StoreDirectory, new StoreSettings { FileSystem = kind }))
        {
            Assert.Equal(kind, store.FileSystem);
        }

        using var connection = Connect();
        Assert.Equal(journal, Run(connection, "PRAGMA journal_mode"));
    }
}
