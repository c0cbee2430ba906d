using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// The heart of the product (SPEC "What it is", "<c>&lt;Step&gt;</c> metadata"): a step whose key matches an earlier
/// successful run is skipped and its outputs restored byte for byte; a change re-runs exactly the steps it reaches,
/// and the log says why. Step commands write binary content, so a restore that altered a byte would show.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class CachingTests(SdkPackage package, ITestOutputHelper output)
{
    // Octal escapes: the printf of dash (/bin/sh on Debian and Ubuntu) knows no \x.
    private const string PrepareCommand = @"mkdir -p data && printf 'a\000b\001\377\376\nrow\000' > data/raw.bin";
    private const string TrainCommand = @"mkdir -p model && cat data/raw.bin data/raw.bin > model/weights.bin && printf '\000\000cfg\377' > model/config.bin";

    [Fact]
    public void FirstRunExecutesEveryStepAndSecondRunReusesThemAllWithoutTouchingOutputs()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveBinaryPipeline(workspace);

        BuildResult first = workspace.RunPipeline().EnsureSucceeded();

        first.EnsureMiss("prepare", "no earlier result").EnsureMiss("train", "no earlier result");
        Assert.Equal("Pipeline pipeline: 2 steps, 0 cached, 2 executed, hit rate 0%", first.Summary());
        Assert.Equal(["prepare", "train"], workspace.Executed());
        string[] outputs = ["data/raw.bin", "model/weights.bin", "model/config.bin"];
        // Older than any write the second run could make, so an unneeded rewrite would show even on a coarse clock.
        DateTime past = new(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        foreach (string file in outputs)
        {
            workspace.SetLastWriteTimeUtc(file, past);
        }

        workspace.ClearExecuted();
        BuildResult second = workspace.RunPipeline().EnsureSucceeded();

        second.EnsureHit("prepare").EnsureHit("train");
        Assert.Equal("Pipeline pipeline: 2 steps, 2 cached, 0 executed, hit rate 100%", second.Summary());
        Assert.Empty(second.LinesContaining("Restored "));
        Assert.Empty(workspace.Executed());
        foreach (string file in outputs)
        {
            Assert.Equal(past, workspace.GetLastWriteTimeUtc(file));
        }
    }

    [Fact]
    public void DeletedOutputsAreRestoredFromTheStoreWithIdenticalBytes()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveBinaryPipeline(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        byte[] raw = workspace.ReadBytes("data/raw.bin");
        byte[] weights = workspace.ReadBytes("model/weights.bin");
        byte[] config = workspace.ReadBytes("model/config.bin");
        Assert.Equal([(byte)'a', 0, (byte)'b', 1, 0xFF, 0xFE, (byte)'\n', (byte)'r', (byte)'o', (byte)'w', 0], raw);
        Assert.Equal([0, 0, (byte)'c', (byte)'f', (byte)'g', 0xFF], config);

        workspace.Delete("data/raw.bin").Delete("model").ClearExecuted();
        BuildResult result = workspace.RunPipeline().EnsureSucceeded();

        result.EnsureHit("prepare").EnsureHit("train");
        result.EnsureLine("Restored 1 output file of prepare from the cache.");
        result.EnsureLine("Restored 2 output files of train from the cache.");
        Assert.Empty(workspace.Executed());
        Assert.Equal(raw, workspace.ReadBytes("data/raw.bin"));
        Assert.Equal(weights, workspace.ReadBytes("model/weights.bin"));
        Assert.Equal(config, workspace.ReadBytes("model/config.bin"));
        Assert.Equal(["model/config.bin", "model/weights.bin"], workspace.ListFiles("model"));
    }

    [Fact]
    public void AnEditedInputReRunsItsStepAndEverythingDownstreamButNotAnIndependentStep()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("raw/a.txt", "a1\n").WriteFile("raw/b.txt", "b1\n");
        PipelineProject.Create(package.Version)
            .TracedStep("clean", "mkdir -p data && cat raw/a.txt > data/clean.txt", inputs: "raw/a.txt", outputs: "data/clean.txt")
            .TracedStep("features", "cat data/clean.txt data/clean.txt > data/features.txt", inputs: "data/clean.txt", outputs: "data/features.txt")
            .TracedStep("report", "cat data/features.txt > report.txt", inputs: "data/features.txt", outputs: "report.txt")
            .TracedStep("stats", "cat raw/b.txt > stats.txt", inputs: "raw/b.txt", outputs: "stats.txt")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        Assert.Equal(["clean", "features", "report", "stats"], workspace.Executed().Order(StringComparer.Ordinal));

        workspace.WriteFile("raw/a.txt", "a2\n").ClearExecuted();
        BuildResult result = workspace.RunPipeline().EnsureSucceeded();

        result.EnsureMiss("clean", "input raw/a.txt changed")
            .EnsureMiss("features", "input data/clean.txt changed")
            .EnsureMiss("report", "input data/features.txt changed")
            .EnsureHit("stats");
        Assert.Equal(["clean", "features", "report"], workspace.Executed());
        Assert.Equal("Pipeline pipeline: 4 steps, 1 cached, 3 executed, hit rate 25%", result.Summary());
        Assert.Equal("a2\na2\n", workspace.ReadFile("report.txt"));
        Assert.Equal("b1\n", workspace.ReadFile("stats.txt"));
    }

    [Fact]
    public void AStepThatReadsAnotherStepsOutputRunsAfterItWithoutDependsOn()
    {
        using Workspace workspace = Workspace.Create(package, output);
        // Declared consumer first: only the inferred edge can put the producer before it.
        PipelineProject.Create(package.Version)
            .TracedStep("consume", "cat produced.txt > consumed.txt", inputs: "produced.txt", outputs: "consumed.txt")
            .TracedStep("produce", "echo fresh > produced.txt", outputs: "produced.txt")
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureSucceeded();

        Assert.Equal(["produce", "consume"], workspace.Executed());
        int produced = result.Lines.ToList().FindIndex(l => l.Contains("Step produce has finished in", StringComparison.Ordinal));
        Assert.True(produced >= 0 && produced < result.IndexOfLine("Step consume has started."), $"Expected consume to start after produce finished.\n{result}");
        Assert.Equal("fresh\n", workspace.ReadFile("consumed.txt"));
    }

    [Fact]
    public void AChangedParameterReRunsTheStepAndReachesTheCommand()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "0.002")
            .TracedStep("train", "echo gamma=$PARAM_Gamma > model.txt", outputs: "model.txt", parameters: "Gamma=$(Gamma)")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");
        Assert.Equal("gamma=0.002\n", workspace.ReadFile("model.txt"));

        BuildResult result = workspace.RunPipeline(DotnetRunner.Property("Gamma", "0.0001")).EnsureSucceeded();

        result.EnsureMiss("train", "parameter Gamma changed (0.002 -> 0.0001)");
        Assert.Equal(["train", "train"], workspace.Executed());
        Assert.Equal("gamma=0.0001\n", workspace.ReadFile("model.txt"));
    }

    [Fact]
    public void AChangedCodeFileReRunsTheStep()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("train.sh", "echo v1 > model.txt\n");
        PipelineProject.Create(package.Version)
            .TracedStep("train", "sh train.sh", outputs: "model.txt", code: "train.sh")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.WriteFile("train.sh", "echo v2 > model.txt\n");
        BuildResult result = workspace.RunPipeline().EnsureSucceeded();

        result.EnsureMiss("train", "code train.sh changed");
        Assert.Equal(["train", "train"], workspace.Executed());
        Assert.Equal("v2\n", workspace.ReadFile("model.txt"));
    }

    private void SaveBinaryPipeline(Workspace workspace) =>
        PipelineProject.Create(package.Version)
            .TracedStep("prepare", PrepareCommand, outputs: "data/raw.bin")
            .TracedStep("train", TrainCommand, inputs: "data/raw.bin", outputs: "model/")
            .Save(workspace);
}
