using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Keys;
using MLPipelines.Engine.Store;
using MLPipelines.Tasks.Tests.TestKit;
using Microsoft.Data.Sqlite;

namespace MLPipelines.Tasks.Tests.Store;

public sealed class CacheStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2031, 3, 1, 8, 30, 15, 123, TimeSpan.Zero);

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string StoreDirectory => _directory.Combine(".mlpipelines");

    /// <summary>An entry whose outputs are really in the store's objects, as the runner records them.</summary>
    private CacheEntry Entry(CacheStore store, string key, string step = "train", DateTimeOffset? createdAt = null, string pipeline = "iris", string content = "model")
    {
        var work = "work/" + Guid.NewGuid().ToString("N");
        var weights = store.Objects.Add(_directory.Write(work + "/weights.bin", content));
        var script = store.Objects.Add(_directory.Write(work + "/run.sh", "#!/bin/sh"));
        return new CacheEntry
        {
            Pipeline = pipeline,
            Step = step,
            Key = key,
            CreatedAt = createdAt ?? T0,
            Duration = TimeSpan.FromMilliseconds(932),
            Components =
            [
                new(ComponentKind.Format, "", ContentHash.OfText("1"), "1"),
                new(ComponentKind.Parameter, "Gamma", ContentHash.OfText("0.002"), "0.002"),
                new(ComponentKind.Input, "data/train.csv", ContentHash.OfText("1,2")),
            ],
            Manifest =
            [
                new("model/weights.bin", weights.Hash, weights.Size, 0b110_100_100),
                new("model/run.sh", script.Hash, script.Size, 0b111_101_101),
            ],
            Directories = ["model/"],
            RunId = "20310301-083015-abcdef",
        };
    }

    private static void Record(CacheStore store, CacheEntry entry) => Assert.True(store.RecordEntry(entry), $"Entry {entry.Key} was not recorded.");

    private SqliteConnection OpenSeparateConnection()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(StoreDirectory, "cache.db"),
            Pooling = false,
        }.ToString());
        connection.Open();
        return connection;
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    [Fact]
    public void ANewStoreFolderIsClosedToOtherUsers()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using (CacheStore.Open(StoreDirectory))
        {
        }

        var mode = File.GetUnixFileMode(StoreDirectory);
        Assert.True(mode.HasFlag(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute));
        Assert.Equal(0, (int)(mode & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)));
    }

    [Fact]
    public void AnExistingStoreFolderKeepsItsMode()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // A folder prepared for a team (or left open on purpose) is the owner's choice: never narrowed or widened.
        Directory.CreateDirectory(StoreDirectory);
        var shared = (UnixFileMode)0b111_111_101;
        File.SetUnixFileMode(StoreDirectory, shared);

        using (CacheStore.Open(StoreDirectory))
        {
        }

        Assert.Equal(shared, File.GetUnixFileMode(StoreDirectory));
    }

    [Fact]
    public void OpenCreatesTheDatabaseInWalModeAndTheObjectsFolder()
    {
        using (var store = CacheStore.Open(StoreDirectory))
        {
            Assert.Equal(StoreDirectory, store.Directory);
            Assert.Equal(Path.Combine(StoreDirectory, "objects"), store.Objects.Root);
        }

        Assert.True(File.Exists(Path.Combine(StoreDirectory, "cache.db")));
        Assert.True(Directory.Exists(Path.Combine(StoreDirectory, "objects")));
        using var connection = OpenSeparateConnection();
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode"));
    }

    [Fact]
    public void AnEntryRoundTripsWithItsComponentsAndManifest()
    {
        CacheEntry entry;
        using (var store = CacheStore.Open(StoreDirectory))
        {
            entry = Entry(store, "k1");
            Record(store, entry);
        }

        using var reopened = CacheStore.Open(StoreDirectory);
        var found = reopened.FindEntry("k1");

        Assert.NotNull(found);
        Assert.True(found.Id > 0);
        Assert.Equal(("iris", "train", "k1"), (found.Pipeline, found.Step, found.Key));
        Assert.Equal(T0, found.CreatedAt);
        Assert.Equal(T0, found.LastUsedAt);
        Assert.Equal(TimeSpan.FromMilliseconds(932), found.Duration);
        Assert.Equal(entry.Components, found.Components);
        Assert.Equal(entry.Manifest, found.Manifest);
        Assert.Equal(["model/"], found.Directories);
        Assert.Equal("20310301-083015-abcdef", found.RunId);
        Assert.Equal(14, found.TotalSize);
        Assert.All(found.Manifest, f => Assert.True(reopened.Objects.Contains(f.Hash)));
    }

    [Fact]
    public void AnUnknownKeyFindsNothing()
    {
        using var store = CacheStore.Open(StoreDirectory);
        Record(store, Entry(store, "k1"));

        Assert.Null(store.FindEntry("k2"));
        Assert.Null(store.FindNewestEntry("iris", "evaluate"));
    }

    [Fact]
    public void RecordingTheSameKeyAgainReplacesTheEntry()
    {
        using var store = CacheStore.Open(StoreDirectory);
        Record(store, Entry(store, "k1", content: "old model"));
        Record(store, Entry(store, "k1", content: "new model!", createdAt: T0.AddHours(1)) with { RunId = null });

        var entry = Assert.Single(store.AllEntries());
        Assert.Equal(ContentHash.OfText("new model!"), entry.Manifest[0].Hash);
        Assert.Equal(T0.AddHours(1), entry.CreatedAt);
        Assert.Null(entry.RunId);
    }

    [Fact]
    public void AnEntryWhoseObjectIsMissingIsNotRecorded()
    {
        using var store = CacheStore.Open(StoreDirectory);
        var entry = Entry(store, "k1");
        store.Objects.Remove(entry.Manifest[0].Hash);

        Assert.False(store.RecordEntry(entry));
        Assert.Empty(store.AllEntries());
    }

    [Fact]
    public void FindNewestEntryReturnsTheStepsLatestEntry()
    {
        using var store = CacheStore.Open(StoreDirectory);
        Record(store, Entry(store, "old", createdAt: T0));
        Record(store, Entry(store, "newest", createdAt: T0.AddMinutes(10)));
        Record(store, Entry(store, "middle", createdAt: T0.AddMinutes(5)));
        Record(store, Entry(store, "other-step", step: "evaluate", createdAt: T0.AddHours(1)));
        Record(store, Entry(store, "other-pipeline", pipeline: "wine", createdAt: T0.AddHours(1)));

        Assert.Equal("newest", store.FindNewestEntry("iris", "train")?.Key);
        Assert.Equal("other-step", store.FindNewestEntry("iris", "evaluate")?.Key);
        Assert.Equal("other-pipeline", store.FindNewestEntry("wine", "train")?.Key);
    }

    [Fact]
    public void EntriesCreatedInTheSameMillisecondResolveToTheLastRecorded()
    {
        using var store = CacheStore.Open(StoreDirectory);
        Record(store, Entry(store, "first"));
        Record(store, Entry(store, "second"));

        Assert.Equal("second", store.FindNewestEntry("iris", "train")?.Key);
    }

    [Fact]
    public void TouchAndDeleteAffectOnlyTheirEntry()
    {
        using var store = CacheStore.Open(StoreDirectory);
        Record(store, Entry(store, "k1"));
        Record(store, Entry(store, "k2"));

        store.TouchEntry("k1", T0.AddDays(3));
        store.DeleteEntry(store.FindEntry("k2")!.Id);

        Assert.Equal(T0.AddDays(3), store.FindEntry("k1")?.LastUsedAt);
        Assert.Null(store.FindEntry("k2"));
        Assert.Equal(["k1"], store.AllEntries().Select(e => e.Key));
    }

    [Fact]
    public void TouchEntriesMarksEveryListedEntryAndSkipsUnknownKeys()
    {
        using var store = CacheStore.Open(StoreDirectory);
        Record(store, Entry(store, "k1"));
        Record(store, Entry(store, "k2"));
        Record(store, Entry(store, "k3"));

        store.TouchEntries(["k1", "k3", "no such key"], T0.AddDays(2));
        store.TouchEntries([], T0.AddDays(5));

        Assert.Equal([T0.AddDays(2), T0, T0.AddDays(2)], store.AllEntries().Select(e => e.LastUsedAt));
    }

    [Fact]
    public void AnEntryWithUnreadableJsonIsReportedAsCorrupt()
    {
        using var store = CacheStore.Open(StoreDirectory);
        Record(store, Entry(store, "k1"));
        using (var connection = OpenSeparateConnection())
        {
            Scalar(connection, "UPDATE entries SET manifest = '{not json' WHERE key = 'k1'");
        }

        Assert.Throws<CorruptEntryException>(() => store.FindEntry("k1"));
    }

    /// <summary>
    /// Hostile rows of the entries table, one column at a time: malformed JSON, JSON of the wrong shape or types, null
    /// items and null or missing fields, values out of range. Each reads as a corrupt entry (the runner's MLP3002:
    /// the step executes and the entry is replaced), never as an exception of another kind or as nulls in an entry.
    /// </summary>
    public static TheoryData<string, string> HostileColumns => new()
    {
        { "manifest", "'{not json'" },
        { "manifest", "''" },
        { "manifest", "'null'" },
        { "manifest", "'{}'" },
        { "manifest", "'\"model/w.bin\"'" },
        { "manifest", "'[1]'" },
        { "manifest", "'[null]'" },
        { "manifest", "'[{}]'" },
        { "manifest", "'[{\"path\":null,\"hash\":\"0123456789abcdef0123456789abcdef\",\"size\":1,\"mode\":420}]'" },
        { "manifest", "'[{\"path\":\"model/w.bin\",\"hash\":null,\"size\":1,\"mode\":420}]'" },
        { "manifest", "'[{\"path\":\"model/w.bin\",\"size\":1,\"mode\":420}]'" },
        { "manifest", "'[{\"path\":7,\"hash\":\"0123456789abcdef0123456789abcdef\",\"size\":1,\"mode\":420}]'" },
        { "manifest", "'[{\"path\":\"model/w.bin\",\"hash\":\"0123456789abcdef0123456789abcdef\",\"size\":\"big\",\"mode\":420}]'" },
        { "manifest", "'[{\"path\":\"model/w.bin\",\"hash\":\"0123456789abcdef0123456789abcdef\",\"size\":1e40,\"mode\":420}]'" },
        { "manifest", "'[{\"path\":\"model/w.bin\",\"hash\":\"0123456789abcdef0123456789abcdef\",\"size\":1,\"mode\":99999999999}]'" },
        { "directories", "'[null]'" },
        { "directories", "'[1]'" },
        { "directories", "'{\"model/\":true}'" },
        { "links", "'[null]'" },
        { "links", "'[{\"path\":\"model/l\",\"target\":null}]'" },
        { "links", "'[{\"path\":\"model/l\"}]'" },
        { "components", "'[null]'" },
        { "components", "'[{\"kind\":\"param\",\"name\":null,\"hash\":\"x\"}]'" },
        { "components", "'[{\"kind\":\"param\"}]'" },
        { "created_at", "9223372036854775807" },
        { "last_used_at", "-9223372036854775808" },
        { "duration_ms", "9223372036854775807" },
        { "manifest", "x'00ff'" },
    };

    [Theory]
    [MemberData(nameof(HostileColumns))]
    public void AnEntryWithAHostileColumnIsCorrupt(string column, string sqlValue)
    {
        using var store = CacheStore.Open(StoreDirectory);
        Record(store, Entry(store, "k1"));
        using (var connection = OpenSeparateConnection())
        {
            Scalar(connection, $"UPDATE entries SET {column} = {sqlValue} WHERE key = 'k1'");
        }

        Assert.Throws<CorruptEntryException>(() => store.FindEntry("k1"));
    }

    /// <summary>A stamp whose every field differs from the others' (inodes and devices beyond long.MaxValue too).</summary>
    private static FileStamp Stamp(int n, string hash) => new(
        new FileIdentity(
            Size: 10 + n,
            LastWriteUnixNs: 1_704_067_200_123_456_789 + n,
            ChangeUnixNs: 1_796_000_000_987_654_321 + n,
            Inode: ulong.MaxValue - (ulong)n,
            Device: 0x8000_00FE_0000_0001UL + (ulong)n,
            LinkInode: n % 2 == 0 ? 0 : 77_000UL + (ulong)n,
            LinkChangeUnixNs: n % 2 == 0 ? 0 : 1_796_000_001_000_000_007 + n),
        hash,
        HashedAtUnixNs: 1_796_000_100_000_000_003 + n);

    [Fact]
    public void FileStampsRoundTripWithEveryFieldAndAreReplacedByPath()
    {
        using (var store = CacheStore.Open(StoreDirectory))
        {
            Assert.Empty(store.LoadFileStamps());
            store.SaveFileStamps(new Dictionary<string, FileStamp>
            {
                ["/p/a.csv"] = Stamp(0, "aa"),
                ["/p/b.csv"] = Stamp(1, "bb"),
            });
            store.SaveFileStamps(new Dictionary<string, FileStamp> { ["/p/a.csv"] = Stamp(2, "a2") });
            store.SaveFileStamps(new Dictionary<string, FileStamp>());
        }

        using var reopened = CacheStore.Open(StoreDirectory);
        var stamps = reopened.LoadFileStamps();

        Assert.Equal(2, stamps.Count);
        Assert.Equal(Stamp(2, "a2"), stamps["/p/a.csv"]);
        Assert.Equal(Stamp(1, "bb"), stamps["/p/b.csv"]);
    }

    [Fact]
    public void PruningForgetsTheStampsOfFilesThatNoLongerExist()
    {
        var kept = _directory.Write("data/kept.csv", "1,2");
        var link = _directory.Combine("data/link.csv");
        File.CreateSymbolicLink(link, "kept.csv");
        var dangling = _directory.Combine("data/dangling.csv");
        File.CreateSymbolicLink(dangling, "deleted.csv");
        using var store = CacheStore.Open(StoreDirectory);
        store.SaveFileStamps(new Dictionary<string, FileStamp>
        {
            [kept] = Stamp(0, "aa"),
            [link] = Stamp(1, "aa"),
            [_directory.Combine("data/deleted.csv")] = Stamp(2, "bb"),
            [dangling] = Stamp(3, "bb"),
        });

        store.Prune(T0, TimeSpan.FromDays(28), maxSize: null);

        Assert.Equal([kept, link], store.LoadFileStamps().Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheSecretIsRandomPerStoreAndStable()
    {
        byte[] first;
        using (var store = CacheStore.Open(StoreDirectory))
        {
            first = store.Secret();
        }

        using var reopened = CacheStore.Open(StoreDirectory);
        using var other = CacheStore.Open(_directory.Combine("other-store"));

        Assert.Equal(32, first.Length);
        Assert.Equal(first, reopened.Secret());
        Assert.NotEqual(first, other.Secret());
    }

    [Fact]
    public void RunsAreRecordedWithTheirStepCounts()
    {
        using (var store = CacheStore.Open(StoreDirectory))
        {
            var run = new RunRecord("run-1", "iris", T0, "running", null);
            store.StartRun(run);
            store.FinishRun(run with { EndedAt = T0.AddSeconds(4), Status = "failed" },
            [
                new StepRunRecord("load", "k1", [], "cached", null, T0, TimeSpan.Zero),
                new StepRunRecord("train", "k2", [], "executed", "parameter Gamma changed (0.002 -> 0.0001)", T0, TimeSpan.FromSeconds(1)),
                new StepRunRecord("evaluate", "k3", null, "failed", "exit code 3", T0, TimeSpan.FromSeconds(1)),
                new StepRunRecord("notify", null, null, "notrun", "upstream step evaluate did not succeed", T0, TimeSpan.Zero),
            ]);
        }

        using var connection = OpenSeparateConnection();
        Assert.Equal("failed|4|1|1|1|4000", Scalar(connection,
            "SELECT status || '|' || steps_total || '|' || steps_cached || '|' || steps_executed || '|' || steps_failed || '|' || (ended_at - started_at) FROM runs WHERE id = 'run-1'"));
        Assert.Equal("parameter Gamma changed (0.002 -> 0.0001)", Scalar(connection, "SELECT reason FROM step_runs WHERE run_id = 'run-1' AND step = 'train'"));
        Assert.Equal(4L, Scalar(connection, "SELECT count(*) FROM step_runs WHERE run_id = 'run-1'"));
    }

    [Fact]
    public async Task TwoStoresOnTheSameDirectoryRecordConcurrently()
    {
        using var first = CacheStore.Open(StoreDirectory);
        using var second = CacheStore.Open(StoreDirectory);
        using var go = new ManualResetEventSlim();
        const int perStore = 40;

        var writers = new[] { first, second }.Select((store, index) => Task.Run(() =>
        {
            go.Wait();
            for (var i = 0; i < perStore; i++)
            {
                Record(store, Entry(store, $"s{index}-k{i}", step: $"step{i % 4}", createdAt: T0.AddMilliseconds(i)));
                store.SaveFileStamps(new Dictionary<string, FileStamp> { [$"/p/{index}/{i}"] = Stamp(i, "h") });
                Assert.NotNull(store.FindNewestEntry("iris", $"step{i % 4}"));
            }
        })).ToArray();
        go.Set();
        await Task.WhenAll(writers);

        Assert.Equal(2 * perStore, first.AllEntries().Count);
        Assert.Equal(2 * perStore, second.LoadFileStamps().Count);
    }

    [Fact]
    public async Task TwoBuildsCanOpenAFreshStoreAtOnce()
    {
        using var go = new ManualResetEventSlim();

        var openers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            go.Wait();
            using var store = CacheStore.Open(StoreDirectory);
            return Convert.ToHexString(store.Secret());
        })).ToArray();
        go.Set();
        var secrets = await Task.WhenAll(openers);

        Assert.Single(secrets.Distinct());
    }
}
