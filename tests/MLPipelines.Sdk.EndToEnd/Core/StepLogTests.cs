using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// Issue 11, item 12, through the packed SDK: each entry keeps what its step printed (the last 1 MiB, saying when it
/// was cut) as an object of the store, listed with the entry's objects; <c>-p:PipelineReplayLogs=true</c> replays it
/// on a hit, each line prefixed with the step's name as live output is.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class StepLogTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void AHitReplaysTheKeptLogOnlyWithReplayLogs()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("train", "echo 'epoch 1: loss 0.52' && echo 'warning: slow disk' >&2 && printf m > model.bin", outputs: "model.bin")
            .Save(workspace);

        BuildResult first = workspace.RunPipeline().EnsureSucceeded();
        BuildResult plain = workspace.RunPipeline().EnsureSucceeded();
        BuildResult replayed = workspace.RunPipeline(DotnetRunner.Property("PipelineReplayLogs", "true")).EnsureSucceeded();

        first.EnsureLine("train: epoch 1: loss 0.52").EnsureLine("train: warning: slow disk");
        plain.EnsureHit("train");
        Assert.False(plain.HasLine("train: epoch 1: loss 0.52"), plain.ToString());
        replayed.EnsureHit("train").EnsureLine("train: epoch 1: loss 0.52").EnsureLine("train: warning: slow disk");

        // The log is an object of the entry, beside the output's: collection keeps both.
        var store = StoreInspector.Of(workspace);
        IReadOnlyList<string> objects = store.EntryObjectHashes("train");
        Assert.Equal(2, objects.Count);
        Assert.Single(objects, hash => File.ReadAllText(store.ObjectPath(hash)).Contains("epoch 1: loss 0.52\n", StringComparison.Ordinal));
    }

    [Fact]
    public void ALogLongerThanOneMebibyteKeepsItsEndAndSaysItWasCut()
    {
        using Workspace workspace = Workspace.Create(package, output);
        // About 1.3 MB of numbers; at -v:q the live lines are not shown, so the build log stays small.
        PipelineProject.Create(package.Version)
            .Step("noisy", "seq 200000 && printf n > n.txt", outputs: "n.txt")
            .Save(workspace);

        new DotnetRunner(workspace) { Verbosity = "q" }.RunPipeline().EnsureSucceeded();

        var store = StoreInspector.Of(workspace);
        string log = store.EntryObjectHashes("noisy").Select(hash => File.ReadAllText(store.ObjectPath(hash))).Single(text => text.Length > 1);
        string[] lines = log.Split('\n');
        Assert.Matches(@"^\[log truncated: the first \d+ lines \(\d+ bytes\) were dropped; the log keeps the last 1048576 bytes\]$", lines[0]);
        Assert.Equal("200000", lines[^2]);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(log) - lines[0].Length - 1 <= 1 << 20, $"{log.Length} characters kept");
    }

    [Fact]
    public void OneLineLongerThanTheLogKeepsItsEndAndTheReplaySaysItWasCut()
    {
        using Workspace workspace = Workspace.Create(package, output);
        // One line of 3,000,000 characters (a progress bar redrawn with \r is one such line): no line is dropped, yet
        // the kept log lost 1,951,425 bytes of it, and the replay used to show the rest as if whole.
        PipelineProject.Create(package.Version)
            .Step("long", "head -c 3000000 /dev/zero | tr '\\0' x && echo && printf l > l.txt", outputs: "l.txt")
            .Save(workspace);

        new DotnetRunner(workspace) { Verbosity = "q" }.RunPipeline().EnsureSucceeded();
        BuildResult replayed = workspace.RunPipeline(DotnetRunner.Property("PipelineReplayLogs", "true")).EnsureSucceeded();

        replayed.EnsureHit("long")
            .EnsureLine("long: [log truncated: a line longer than the log lost its first 1951425 bytes; the log keeps the last 1048576 bytes]");
        Assert.Single(replayed.LinesContaining("long: xxxxxxxxxx"), line => line.TrimEnd().EndsWith(new string('x', 1048575), StringComparison.Ordinal));
    }
}
