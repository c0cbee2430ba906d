using MLPipelines.Sdk.EndToEnd.Core;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Policies;

/// <summary>
/// Every dependency counts (SPEC <c>DependsOn</c>): a <c>DependsOn</c> step's outputs join the key by content, so its
/// new outputs re-run the step and the same bytes again keep the hit (early cutoff); and a step that reads another
/// step's output through <c>Code</c>, <c>FileDependencies</c>, <c>SourceDependencies</c> or its
/// <c>WorkingDirectory</c> runs after it and reads what it wrote. Producers sleep first, so a consumer that started
/// early would read the old file.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class DependencyTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void ADependsOnStepsNewOutputsReRunTheStepAndItsEarlierOutputsHitAgain()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "1")
            .TracedStep("train", "echo gamma=$PARAM_Gamma > model.bin", outputs: "model.bin", parameters: "Gamma=$(Gamma)")
            .TracedStep("publish", "cp model.bin published.bin", outputs: "published.bin", dependsOn: "train")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result").EnsureMiss("publish", "no earlier result");

        workspace.RunPipeline(DotnetRunner.Property("Gamma", "2")).EnsureSucceeded()
            .EnsureMiss("train", "parameter Gamma changed (1 -> 2)")
            .EnsureMiss("publish", "outputs of upstream step train changed");
        Assert.Equal("gamma=2\n", workspace.ReadFile("published.bin"));

        // Back to the first value: both entries exist, and the plan and the run both see it. The working tree holds
        // Gamma=2's outputs, so the plan also says the restore puts the first value's back.
        BuildResult plan = workspace.PlanPipeline().EnsureSucceeded();
        plan.EnsureLine("train: hit (would restore 1 edited output: model.bin)").EnsureLine("publish: hit (would restore 1 edited output: published.bin)");
        workspace.ClearExecuted();
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train").EnsureHit("publish");
        Assert.Empty(workspace.Executed());
        Assert.Equal("gamma=1\n", workspace.ReadFile("model.bin"));
        Assert.Equal("gamma=1\n", workspace.ReadFile("published.bin"));
    }

    [Theory]
    [InlineData("link/sub/x.txt")] // The tester's case.
    [InlineData("link/**/*.txt")]
    public void AnInputThroughASymbolicLinkIntoAnOutputRunsAfterItsStepAndFollowsIt(string input)
    {
        // Before the fix the graph judged "link/..." by its text: no prep -> g6 edge, so g6 ran beside prep, read the
        // old file and hit with V=1's result while data/sub/x.txt held 2.
        using Workspace workspace = Workspace.Create(package, output);
        Directory.CreateSymbolicLink(workspace.GetPath("link"), "data");
        PipelineProject.Create(package.Version)
            .PropertyDefault("V", "1")
            .Step("prep", "sleep 1; mkdir -p data/sub; echo $PARAM_V > data/sub/x.txt", outputs: "data/", parameters: "V=$(V)")
            .Step("g6", "cat link/sub/x.txt > g6.txt", inputs: input, outputs: "g6.txt")
            .Save(workspace);
        workspace.RunPipeline(DotnetRunner.Property("V", "1")).EnsureSucceeded();
        workspace.RunPipeline(DotnetRunner.Property("V", "1")).EnsureSucceeded().EnsureHit("prep").EnsureHit("g6");

        workspace.RunPipeline(DotnetRunner.Property("V", "2")).EnsureSucceeded()
            .EnsureMiss("prep", "parameter V changed (1 -> 2)")
            .EnsureMiss("g6", "input link/sub/x.txt changed");
        Assert.Equal("2\n", workspace.ReadFile("data/sub/x.txt"));
        Assert.Equal("2\n", workspace.ReadFile("g6.txt"));
    }

    [Theory]
    [InlineData("TrainCache", "false", "cache disabled")]
    [InlineData("Seed", "2", "parameter Seed changed (1 -> 2)")]
    public void AnUpstreamStepThatRanAgainAndWroteTheSameBytesLeavesItsDependentCached(string property, string value, string reason)
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("TrainCache", "true")
            .PropertyDefault("Seed", "1")
            .TracedStep("train", "echo weights > model.bin", outputs: "model.bin", parameters: "Seed=$(Seed)",
                metadata: [new("EnableCache", "$(TrainCache)")])
            .TracedStep("publish", "cp model.bin published.bin", outputs: "published.bin", dependsOn: "train")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        workspace.ClearExecuted();

        workspace.RunPipeline(DotnetRunner.Property(property, value)).EnsureSucceeded().EnsureMiss("train", reason).EnsureHit("publish");

        Assert.Equal(["train"], workspace.Executed());
        Assert.Equal("weights\n", workspace.ReadFile("published.bin"));
    }

    [Fact]
    public void AFileDependencyWrittenByAnotherStepIsReadAfterItIsWrittenAndItsChangeIsNamed()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("cfg.json", "stale\n");
        // The consumer is declared first: only the inferred edge can put gen before it.
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "1")
            .TracedStep("train", "cat cfg.json > model.txt", outputs: "model.txt", metadata: [new("FileDependencies", "cfg.json")])
            .TracedStep("gen", "sleep 1 && echo gamma=$PARAM_Gamma > cfg.json", outputs: "cfg.json", parameters: "Gamma=$(Gamma)")
            .Save(workspace);

        BuildResult first = workspace.RunPipeline().EnsureSucceeded();

        EnsureFinishedBefore(first, "gen", "train");
        Assert.Equal(["gen", "train"], workspace.Executed());
        Assert.Equal("gamma=1\n", workspace.ReadFile("model.txt"));

        workspace.RunPipeline(DotnetRunner.Property("Gamma", "2")).EnsureSucceeded()
            .EnsureMiss("gen", "parameter Gamma changed (1 -> 2)")
            .EnsureMiss("train", "file dependency cfg.json changed");
        Assert.Equal("gamma=2\n", workspace.ReadFile("model.txt"));
    }

    [Fact]
    public void ACodeFileWrittenByAnotherStepRunsAfterItIsWrittenAndItsChangeIsNamed()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "1")
            .TracedStep("train", "sh gen/train.sh", outputs: "model.txt", code: "gen/train.sh")
            .TracedStep("gen", "sleep 1 && mkdir -p gen && echo 'echo trained with '$PARAM_Gamma' > model.txt' > gen/train.sh",
                outputs: "gen/", parameters: "Gamma=$(Gamma)")
            .Save(workspace);

        BuildResult first = workspace.RunPipeline().EnsureSucceeded();

        EnsureFinishedBefore(first, "gen", "train");
        Assert.Equal("trained with 1\n", workspace.ReadFile("model.txt"));

        workspace.RunPipeline(DotnetRunner.Property("Gamma", "2")).EnsureSucceeded()
            .EnsureMiss("gen", "parameter Gamma changed (1 -> 2)")
            .EnsureMiss("train", "code gen/train.sh changed");
        Assert.Equal("trained with 2\n", workspace.ReadFile("model.txt"));
    }

    [Fact]
    public void AStepThatRunsInsideAnotherStepsOutputDirectoryRunsAfterItAndCountsItsOutputs()
    {
        using Workspace workspace = Workspace.Create(package, output);
        // Not traced: a trace line written where "use" runs would land in gen's output directory.
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "1")
            .Step("use", "sh run.sh", outputs: "out.txt", metadata: [new("WorkingDirectory", "tool")])
            .Step("gen", "sleep 1 && mkdir -p tool && echo 'echo built with '$PARAM_Gamma' > ../out.txt' > tool/run.sh",
                outputs: "tool/", parameters: "Gamma=$(Gamma)")
            .Save(workspace);

        BuildResult first = workspace.RunPipeline().EnsureSucceeded();

        EnsureFinishedBefore(first, "gen", "use");
        Assert.Equal("built with 1\n", workspace.ReadFile("out.txt"));

        workspace.RunPipeline(DotnetRunner.Property("Gamma", "2")).EnsureSucceeded()
            .EnsureMiss("use", "outputs of upstream step gen changed");
        Assert.Equal("built with 2\n", workspace.ReadFile("out.txt"));
    }

    [Fact]
    public void AFileGeneratedIntoASourceProjectsFolderCountsEvenWhenTheEvaluationDidNotSeeIt()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("src/tool/tool.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup></Project>\n");
        workspace.WriteFile("src/tool/Program.cs", "System.Console.WriteLine(\"tool\");\n");
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "1")
            .TracedStep("train", "cat src/tool/Generated.cs > model.txt", outputs: "model.txt",
                metadata: [new("SourceDependencies", "src/tool/tool.csproj")])
            .TracedStep("gen", "sleep 1 && echo '// gamma '$PARAM_Gamma > src/tool/Generated.cs",
                outputs: "src/tool/Generated.cs", parameters: "Gamma=$(Gamma)")
            .Save(workspace);

        BuildResult first = workspace.RunPipeline().EnsureSucceeded();

        EnsureFinishedBefore(first, "gen", "train");
        Assert.Equal("// gamma 1\n", workspace.ReadFile("model.txt"));

        // Deleted, the generated file is not among the sources MSBuild evaluates before the run; gen's outputs still count.
        workspace.Delete("src/tool/Generated.cs");
        workspace.RunPipeline(DotnetRunner.Property("Gamma", "2")).EnsureSucceeded()
            .EnsureMiss("gen", "parameter Gamma changed (1 -> 2)")
            .EnsureMiss("train", "outputs of upstream step gen changed");
        Assert.Equal("// gamma 2\n", workspace.ReadFile("model.txt"));
    }

    /// <summary>The consumer started only after the producer had finished, by the order of the log lines.</summary>
    private static void EnsureFinishedBefore(BuildResult result, string producer, string consumer)
    {
        int finished = result.Lines.ToList().FindIndex(l => l.Contains($"Step {producer} has finished in", StringComparison.Ordinal));
        Assert.True(finished >= 0 && finished < result.IndexOfLine($"Step {consumer} has started."),
            $"Expected {consumer} to start after {producer} finished.\n{result}");
    }

    /// <summary>A tester's case: the producer executes again under the same key (forced) and writes other bytes.</summary>
    [Fact]
    public void IncludeArtifactIdsOfAnUpstreamOutputFollowsItsContentNotItsProducersKey()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("fetch", "mkdir -p data && date +%s%N > data/snap.txt", outputs: "data/")
            .Step("index", "cp data/snap.txt index.txt", inputs: "data/snap.txt", outputs: "index.txt",
                metadata: [new("IncludeArtifactValues", "false"), new("IncludeArtifactIds", "true")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();

        BuildResult forced = workspace.RunPipeline("-p:PipelineForce=fetch").EnsureSucceeded();

        forced.EnsureMiss("index", "input data/snap.txt identity changed");
        Assert.Equal(workspace.ReadFile("data/snap.txt"), workspace.ReadFile("index.txt"));
    }
}
