using System.Runtime.Versioning;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Keys;
using MLPipelines.Tasks.Tests.TestKit;
using Microsoft.Data.Sqlite;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// The run history stays bounded: runs follow the cache's age limit and a count cap, and a run refers to its steps'
/// key components instead of copying them.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class RunHistoryTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2031, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    private long Scalar(string sql)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_pipeline.CacheDirectory, "cache.db"),
            Pooling = false,
        }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private List<string> RunIds()
    {
        using var store = _pipeline.OpenStore();
        return store.ListRuns(int.MaxValue).Select(r => r.Id).ToList();
    }

    [Fact]
    public async Task CachedRunsOfAStepWithManyInputsStoreItsKeyComponentsOnce()
    {
        for (var i = 0; i < 500; i++)
        {
            _pipeline.Project.Write($"data/part-{i:D4}.csv", $"row {i}\n");
        }

        _pipeline.Step("train", "cat data/*.csv > model.txt", ("Inputs", "data/"), ("Outputs", "model.txt"));
        var runs = new List<PipelineRun>();
        for (var i = 0; i < 10; i++)
        {
            runs.Add(await _pipeline.RunAsync());
        }

        runs[0].AssertOutcome("train", StepOutcome.Executed);
        Assert.All(runs.Skip(1), r => r.AssertOutcome("train", StepOutcome.Cached));
        var oneCopy = Scalar("SELECT length(components) FROM entries");
        Assert.True(oneCopy > 500 * 32, $"The entry's components are only {oneCopy} bytes: the test does not measure what it means to.");
        Assert.Equal(10, Scalar("SELECT COUNT(*) FROM step_runs WHERE step = 'train' AND components_hash IS NOT NULL"));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM step_runs WHERE components IS NOT NULL"));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM key_components"));
        Assert.Equal(oneCopy, Scalar("SELECT SUM(length(components)) FROM key_components"));

        // Every run still reads its steps' components back whole.
        using var store = _pipeline.OpenStore();
        var first = store.FindRunSteps(runs[0].Result.RunId)!.Single().Components;
        var last = store.FindRunSteps(runs[^1].Result.RunId)!.Single().Components;
        Assert.NotNull(first);
        Assert.Equal(500, first.Count(c => c.Kind == ComponentKind.Input));
        Assert.Equal(first, last);
    }

    [Fact]
    public async Task AStepRunWrittenWithAComponentsCopyByAnOlderEngineIsStillRead()
    {
        _pipeline.Step("hello", "printf hi > out.txt", ("Outputs", "out.txt"));
        var run = (await _pipeline.RunAsync()).Result.RunId;
        Assert.Equal(1, Scalar($"SELECT COUNT(*) FROM step_runs WHERE run_id = '{run}' AND components_hash IS NOT NULL"));

        // Schema 3 engines wrote the list itself into step_runs.components and no components_hash.
        Scalar($"UPDATE step_runs SET components = '[{{\"kind\":\"param\",\"name\":\"Gamma\",\"hash\":\"00\",\"value\":\"1\"}}]', components_hash = NULL WHERE run_id = '{run}'");

        using var store = _pipeline.OpenStore();
        var component = Assert.Single(store.FindRunSteps(run)!.Single().Components!);
        Assert.Equal(new KeyComponent(ComponentKind.Parameter, "Gamma", "00", "1"), component);
    }

    [Fact]
    public async Task RunsBeyondTheHistoryLimitArePrunedOldestFirst()
    {
        var clock = new ManualTimeProvider(T0);
        _pipeline.Step("hello", "printf hi > out.txt", ("Outputs", "out.txt"));
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            ids.Add((await _pipeline.RunAsync(o => o with { RunHistoryLimit = 3 }, clock)).Result.RunId);
        }

        Assert.Equal(ids.Skip(2).Reverse(), RunIds());
        Assert.Equal(3, Scalar("SELECT COUNT(*) FROM step_runs"));
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM step_runs WHERE run_id NOT IN (SELECT id FROM runs)"));
    }

    [Fact]
    public async Task RunsOlderThanTheCacheMaxAgeArePrunedWithTheirKeyComponents()
    {
        var clock = new ManualTimeProvider(T0);
        _pipeline.Step("hello", "printf \"$PARAM_Word\" > out.txt", ("Outputs", "out.txt"), ("Parameters", "Word=old"));
        var old = (await _pipeline.RunAsync(clock: clock)).Result.RunId;
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM key_components"));

        clock.Advance(TimeSpan.FromDays(29));
        _pipeline.Step("hello", "printf \"$PARAM_Word\" > out.txt", ("Outputs", "out.txt"), ("Parameters", "Word=new"));
        var recent = await _pipeline.RunAsync(clock: clock);

        Assert.Equal([recent.Result.RunId], RunIds());
        Assert.DoesNotContain(old, RunIds());
        recent.AssertMessage($"Removed 1 run record (older than {TimeSpan.FromDays(28)}, or beyond the newest 1000 of pipeline p).");
        // The old run's components went with it; the recent run's stay.
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM key_components"));
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM key_components WHERE hash = (SELECT components_hash FROM step_runs)"));
    }

    [Fact]
    public async Task AMissIsStillExplainedAgainstTheNewestEntryAndAResumedRunReadsItsRecordedComponents()
    {
        _pipeline.Step("a", "printf \"$PARAM_Gamma\" > a.txt", ("Outputs", "a.txt"), ("Parameters", "Gamma=1"));
        _pipeline.Step("b", "cat a.txt > b.txt", ("Inputs", "a.txt"), ("Outputs", "b.txt"));
        var first = await _pipeline.RunAsync();
        await _pipeline.RunAsync();

        _pipeline.Step("a", "printf \"$PARAM_Gamma\" > a.txt", ("Outputs", "a.txt"), ("Parameters", "Gamma=2"));
        var changed = await _pipeline.RunAsync(o => o with { ResumeFrom = new Engine.Configuration.ResumePoint("b", first.Result.RunId) });

        // a must be restored from the first run, but its inputs changed since: the reason compares the run's
        // recorded components (read through key_components) with today's.
        Assert.Contains($"changed since run {first.Result.RunId} (parameter Gamma changed (1 -> 2))", changed.Log.ToString(), StringComparison.Ordinal);
    }
}
