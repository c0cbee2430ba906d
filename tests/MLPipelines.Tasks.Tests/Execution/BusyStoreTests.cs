using MLPipelines.Engine;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Store;
using MLPipelines.Tasks.Tests.TestKit;
using System.Runtime.Versioning;
using Microsoft.Data.Sqlite;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// A store whose write lock another connection holds past the busy timeout (BEGIN IMMEDIATE, never committed): the
/// run goes on, hits stand where the outputs are in place, everything else executes, and one MLP3008 says what was
/// skipped. Never a failed build.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class BusyStoreTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    private SqliteConnection HoldWriteLock()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_pipeline.CacheDirectory, "cache.db"),
            Pooling = false,
        }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "BEGIN IMMEDIATE; INSERT OR REPLACE INTO meta (name, value) VALUES ('holder', 'x');";
        command.ExecuteNonQuery();
        return connection;
    }

    private long Count(string table)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_pipeline.CacheDirectory, "cache.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public async Task ABusyStoreCostsTheCacheOnceWarnedNeverTheBuild()
    {
        _pipeline
            .Step("kept", "printf kept > kept.txt", ("Outputs", "kept.txt"))
            .Step("lost", "printf lost > lost.txt", ("Outputs", "lost.txt"))
            .Step("fresh", "printf $PARAM_V > fresh.txt", ("Outputs", "fresh.txt"), ("Parameters", "V=1"));
        await _pipeline.RunAsync();
        Assert.Equal(1, Count("runs"));
        File.Delete(Path.Combine(_pipeline.ProjectDirectory, "lost.txt"));
        _pipeline.Step("fresh2", "printf new > fresh2.txt", ("Outputs", "fresh2.txt"));

        PipelineRun run;
        _pipeline.StoreSettings = new StoreSettings { BusyTimeout = TimeSpan.FromMilliseconds(100) };
        using (HoldWriteLock())
        {
            run = await _pipeline.RunAsync();
        }

        Assert.True(run.Result.Succeeded, run.Log.ToString());
        Assert.Empty(run.Log.Errors);
        // Outputs already exact: the hit stands, only its use is not recorded.
        run.AssertOutcome("kept", StepOutcome.Cached);
        // A restore must lease its objects first; unleased, the step executes instead.
        run.AssertOutcome("lost", StepOutcome.Executed);
        run.AssertMessage("Cache miss for lost: the pipeline cache was busy.");
        // A new result cannot be recorded: executed, not stored.
        run.AssertOutcome("fresh2", StepOutcome.Executed);
        Assert.Equal("lost", File.ReadAllText(Path.Combine(_pipeline.ProjectDirectory, "lost.txt")));
        var warning = run.SingleWarning(ErrorCodes.StoreBusy);
        Assert.Contains("busy timeout", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(run.Log.Warnings, w => w.Code != ErrorCodes.StoreBusy);

        // Nothing of the busy run reached the store: no run record, no entry of fresh2.
        Assert.Equal(1, Count("runs"));
        _pipeline.StoreSettings = null;
        var after = await _pipeline.RunAsync();
        after.AssertOutcome("kept", StepOutcome.Cached).AssertOutcome("lost", StepOutcome.Cached).AssertOutcome("fresh2", StepOutcome.Executed);
        Assert.Equal(2, Count("runs"));
    }

    [Fact]
    public void AfterOneWriteWaitedTheWholeTimeoutInVainLaterWritesOfTheRunWaitBriefly()
    {
        using var store = CacheStore.Open(_pipeline.CacheDirectory, new StoreSettings { BusyTimeout = TimeSpan.FromSeconds(30) });
        var log = new RecordingLog();
        var contention = new StoreContention(log, () => store.LimitBusyWait(StoreContention.LaterBusyWait));
        Assert.Equal(30_000, store.BusyWaitMilliseconds);

        Assert.False(contention.Try("the run record", null, () => throw new SqliteException("database is locked", 5)));
        Assert.False(contention.Try("storing the result of step 'a'", "a", () => throw new SqliteException("database is locked", 5)));

        Assert.Equal((long)StoreContention.LaterBusyWait.TotalMilliseconds, store.BusyWaitMilliseconds);
        var warning = Assert.Single(log.Warnings);
        Assert.Contains("-v:d", warning.Message, StringComparison.Ordinal);
    }
}
