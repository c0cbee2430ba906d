using System.Text;
using MLPipelines.Engine.Execution;
using MLPipelines.Tasks.Tests.TestKit;
using Microsoft.Data.Sqlite;
using System.Runtime.Versioning;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// Issue 11, item 12: each entry keeps what its step printed (bounded), a hit replays it with
/// <c>PipelineReplayLogs</c>, and the store's collection keeps the log object with its entry.
/// </summary>
public sealed class StepLogTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    [Fact]
    public void KeepsTheLastBytesAndSaysWhenTruncated()
    {
        var log = new StepLog(maxBytes: 100);
        for (var i = 0; i < 50; i++)
        {
            log.Add($"line {i:00}", isError: false); // 8 bytes each with its newline
        }

        var lines = StepLog.Lines(log.ToBytes()).ToList();

        Assert.True(log.Truncated);
        Assert.Equal("[log truncated: the first 38 lines (304 bytes) were dropped; the log keeps the last 100 bytes]", lines[0]);
        Assert.Equal(Enumerable.Range(38, 12).Select(i => $"line {i:00}"), lines.Skip(1));
        Assert.True(Encoding.UTF8.GetByteCount(string.Concat(lines.Skip(1).Select(l => l + "\n"))) <= 100);
    }

    [Fact]
    public void OneLineLongerThanTheWholeLogKeepsItsEndAndSaysItWasCut()
    {
        // The tester's case: one 3 MB line kept only its last 262,144 characters, and the kept log (so the replay)
        // did not say so.
        var log = new StepLog();
        log.Add(new string('x', 3_000_000) + "END", isError: false);

        var lines = StepLog.Lines(log.ToBytes()).ToList();

        Assert.True(log.Truncated);
        Assert.Equal(2, lines.Count);
        Assert.Equal($"[log truncated: a line longer than the log lost its first {3_000_003 - (StepLog.MaxBytes - 1)} bytes; the log keeps the last {StepLog.MaxBytes} bytes]", lines[0]);
        Assert.Equal(StepLog.MaxBytes - 1, lines[1].Length); // the whole bound, not a quarter of it
        Assert.EndsWith("xEND", lines[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("é", 2, 49)] // two UTF-8 bytes each: 49 of them fill 98 of the 99 bytes a line can have
    [InlineData("😀", 4, 24)] // a surrogate pair, four bytes: never cut in half
    [InlineData("a", 1, 99)]
    public void ALongLineIsCutOnCharactersToTheBoundInBytes(string character, int bytesEach, int kept)
    {
        var log = new StepLog(maxBytes: 100);
        log.Add(string.Concat(Enumerable.Repeat(character, 100)), isError: true);

        var lines = StepLog.Lines(log.ToBytes()).ToList();

        Assert.Equal($"[log truncated: a line longer than the log lost its first {(100 - kept) * bytesEach} bytes; the log keeps the last 100 bytes]", lines[0]);
        Assert.Equal(string.Concat(Enumerable.Repeat(character, kept)), lines[1]);
        Assert.DoesNotContain('\uFFFD', lines[1]);
    }

    [Fact]
    public void DroppedLinesAndACutLineAreBothSaid()
    {
        var log = new StepLog(maxBytes: 100);
        log.Add("first", isError: false);
        log.Add(new string('x', 150), isError: false);
        log.Add(new string('y', 150), isError: false);
        log.Add("last", isError: false);

        var lines = StepLog.Lines(log.ToBytes()).ToList();

        Assert.Equal("[log truncated: the first 3 lines (206 bytes) were dropped, and 2 lines longer than the log lost their first 102 bytes in all; the log keeps the last 100 bytes]", lines[0]);
        Assert.Equal("last", lines[^1]);
        Assert.True(Encoding.UTF8.GetByteCount(string.Concat(lines.Skip(1).Select(l => l + "\n"))) <= 100);
    }

    [Fact]
    public void AnUntruncatedLogIsTheLinesAsPrinted()
    {
        var log = new StepLog();
        log.Add("out", isError: false);
        log.Add("err ü", isError: true);

        Assert.False(log.Truncated);
        Assert.Equal("out\nerr ü\n", Encoding.UTF8.GetString(log.ToBytes()));
        Assert.Equal(["out", "err ü"], StepLog.Lines(log.ToBytes()));
    }

    [Fact]
    public void TheErrorTailIsTheLastTwentyErrorLinesOnOneLineAndAtMostFourKilobytes()
    {
        var log = new StepLog();
        for (var i = 0; i < 30; i++)
        {
            log.Add($"err {i}", isError: true);
            log.Add($"out {i}", isError: false);
        }

        Assert.Equal(string.Join(" | ", Enumerable.Range(10, 20).Select(i => $"err {i}")), log.ErrorTail());

        var noisy = new StepLog();
        noisy.Add(new string('x', 10_000), isError: true);
        noisy.Add("the reason", isError: true);
        var tail = noisy.ErrorTail()!;
        Assert.True(tail.Length <= StepLog.ErrorTailChars + 1, $"{tail.Length} characters");
        Assert.EndsWith(" | the reason", tail, StringComparison.Ordinal);

        Assert.Null(new StepLog().ErrorTail());
    }

    [Fact]
    public void TheErrorTailHidesTheStepsEnvironmentValuesButNotShortOnes()
    {
        var log = new StepLog();
        log.Add("401 for token tok-s3cr3t-value at https://api", isError: true);
        log.Add("retry 1 of 1", isError: true);

        Assert.Equal(" Its standard error ended with: 401 for token *** at https://api | retry 1 of 1",
            log.ErrorTailSentence(["tok-s3cr3t-value", "1", "s3cr3t"]));

        // A value longer than what is kept, cut in the middle, is hidden before the cut: no part of it is left.
        var noisy = new StepLog();
        var secret = new string('k', 5000);
        noisy.Add("header " + secret, isError: true);
        Assert.DoesNotContain("kkkk", noisy.ErrorTail([secret]), StringComparison.Ordinal);
    }

    [Fact]
    public void TheErrorTailIsNotCutInsideACharacter()
    {
        var log = new StepLog();
        // Pairs then one character: the last ErrorTailChars characters start with the second half of a pair.
        log.Add(string.Concat(Enumerable.Repeat("😀", StepLog.ErrorTailChars)) + "x", isError: true);

        var tail = log.ErrorTail()!;

        Assert.StartsWith("…😀", tail, StringComparison.Ordinal);
        Assert.EndsWith("😀x", tail, StringComparison.Ordinal);
        Assert.Equal(StepLog.ErrorTailChars, tail.Length); // the "…" and all but the half pair
    }

    [Fact]
    [UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
    public async Task AnEntryKeepsItsLogAndAHitReplaysItOnlyWhenAsked()
    {
        _pipeline.Step("train", "echo 'epoch 1: loss 0.5' && echo 'warning: slow disk' >&2 && printf m > model.bin", ("Outputs", "model.bin"));

        var first = await _pipeline.RunAsync();
        var quiet = await _pipeline.RunAsync();
        var replayed = await _pipeline.RunAsync(o => o with { ReplayLogs = true });

        first.AssertOutcome("train", StepOutcome.Executed);
        quiet.AssertOutcome("train", StepOutcome.Cached);
        Assert.Empty(quiet.Log.LinesOf("train"));
        replayed.AssertOutcome("train", StepOutcome.Cached).AssertNoDiagnostics();
        Assert.Equal(["epoch 1: loss 0.5", "warning: slow disk"], replayed.Log.LinesOf("train").Order(StringComparer.Ordinal));

        using var store = _pipeline.OpenStore();
        var entry = Assert.Single(store.AllEntries());
        Assert.NotNull(entry.LogHash);
        Assert.Equal(Encoding.UTF8.GetByteCount("epoch 1: loss 0.5\nwarning: slow disk\n"), entry.LogSize);
        // Listed with the entry's objects, so a collection by any engine keeps it.
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_pipeline.CacheDirectory, "cache.db")};Pooling=False");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM entry_objects o JOIN entries e ON e.id = o.entry_id WHERE o.hash = e.log_hash";
        Assert.Equal(1L, (long)cmd.ExecuteScalar()!);
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public async Task AStepRestoredByAResumeReplaysItsLogWhenAsked()
    {
        // F6e: the steps a resume restores (with or without a run id) replayed nothing, even with PipelineReplayLogs.
        _pipeline
            .Step("a", "echo 'prepared a' && printf a > a.txt", ("Outputs", "a.txt"))
            .Step("b", "echo 'ran b' && cat a.txt > b.txt", ("Inputs", "a.txt"), ("Outputs", "b.txt"));
        var first = await _pipeline.RunAsync();

        var quiet = await _pipeline.RunAsync(o => o with { ResumeFrom = new Engine.Configuration.ResumePoint("b", null) });
        var replayed = await _pipeline.RunAsync(o => o with { ReplayLogs = true, ResumeFrom = new Engine.Configuration.ResumePoint("b", null) });
        var fromRun = await _pipeline.RunAsync(o => o with { ReplayLogs = true, ResumeFrom = new Engine.Configuration.ResumePoint("b", first.Result.RunId) });

        quiet.AssertOutcome("a", StepOutcome.Cached);
        Assert.Empty(quiet.Log.LinesOf("a"));
        replayed.AssertOutcome("a", StepOutcome.Cached).AssertOutcome("b", StepOutcome.Executed).AssertNoDiagnostics();
        Assert.Equal(["prepared a"], replayed.Log.LinesOf("a"));
        fromRun.AssertOutcome("a", StepOutcome.Cached).AssertNoDiagnostics();
        Assert.Equal(["prepared a"], fromRun.Log.LinesOf("a"));
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public async Task AStepThatPrintedNothingKeepsNoLogAndADamagedLogCostsOnlyTheReplay()
    {
        _pipeline
            .Step("silent", "printf s > s.txt", ("Outputs", "s.txt"))
            .Step("loud", "echo hello && printf l > l.txt", ("Outputs", "l.txt"));
        await _pipeline.RunAsync();
        string logObject;
        using (var store = _pipeline.OpenStore())
        {
            Assert.Null(store.AllEntries().Single(e => e.Step == "silent").LogHash);
            logObject = store.Objects.PathOf(store.AllEntries().Single(e => e.Step == "loud").LogHash!);
        }

        File.WriteAllText(logObject, "altered\n");
        var run = await _pipeline.RunAsync(o => o with { ReplayLogs = true });

        run.AssertOutcome("silent", StepOutcome.Cached).AssertOutcome("loud", StepOutcome.Cached);
        Assert.Empty(run.Log.LinesOf("loud"));
        run.AssertMessage("The kept log of loud is missing or damaged in the cache; nothing to replay.");
        Assert.StartsWith("No log of silent was kept", run.Message("No log of silent"), StringComparison.Ordinal);
    }
}
