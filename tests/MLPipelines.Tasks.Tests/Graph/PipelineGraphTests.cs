using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Graph;

namespace MLPipelines.Tasks.Tests.Graph;

public sealed class PipelineGraphTests
{
    private static StepDefinition Step(
        string name,
        string inputs = "",
        string outputs = "",
        string dependsOn = "",
        string code = "",
        string fileDependencies = "",
        string sourceDependencies = "",
        string workingDirectory = "") => new()
    {
        Name = name,
        Command = "run",
        Inputs = StepParser.SplitList(inputs),
        Outputs = StepParser.SplitList(outputs),
        DependsOn = StepParser.SplitList(dependsOn),
        Code = StepParser.SplitList(code),
        FileDependencies = StepParser.SplitList(fileDependencies),
        SourceDependencies = StepParser.SplitList(sourceDependencies),
        WorkingDirectory = workingDirectory,
    };

    private static PipelineGraph Valid(params StepDefinition[] steps) => Valid(null, steps);

    private static PipelineGraph Valid(IReadOnlyDictionary<string, IReadOnlyList<string>>? projectSources, params StepDefinition[] steps)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var graph = PipelineGraph.Build(steps, diagnostics, projectSources);
        Assert.Empty(diagnostics);
        return graph!;
    }

    /// <summary><c>tools/featurize/featurize.csproj</c> as MSBuild evaluated it: its file, a Compile item, and a linked file outside its folder.</summary>
    private static readonly Dictionary<string, IReadOnlyList<string>> Featurize = new()
    {
        ["tools/featurize/featurize.csproj"] = ["shared/Linked.cs", "tools/featurize/Program.cs", "tools/featurize/featurize.csproj"],
    };

    private static List<PipelineDiagnostic> Invalid(params StepDefinition[] steps)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        Assert.Null(PipelineGraph.Build(steps, diagnostics));
        Assert.NotEmpty(diagnostics);
        return diagnostics;
    }

    private static PipelineDiagnostic SingleInvalid(string code, params StepDefinition[] steps)
    {
        var diagnostic = Assert.Single(Invalid(steps));
        Assert.Equal(code, diagnostic.Code);
        return diagnostic;
    }

    [Fact]
    public void ADuplicateStepNameIsMLP1002()
    {
        var diagnostic = SingleInvalid(ErrorCodes.DuplicateStepName, Step("train"), Step("other"), Step("train"));

        Assert.Equal("train", diagnostic.Step);
        Assert.Contains("'train'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StepNamesDifferingOnlyInCaseAreDuplicates()
    {
        Assert.Equal("Train", SingleInvalid(ErrorCodes.DuplicateStepName, Step("train"), Step("Train")).Step);
    }

    [Fact]
    public void AnUnknownDependencyIsMLP1004()
    {
        var diagnostic = SingleInvalid(ErrorCodes.UnknownDependency, Step("load"), Step("train", dependsOn: "load;lod"));

        Assert.Equal("train", diagnostic.Step);
        Assert.Contains("'lod'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACycleIsMLP1005AndItsMessageNamesTheCycle()
    {
        var diagnostic = SingleInvalid(ErrorCodes.DependencyCycle,
            Step("a", dependsOn: "b"),
            Step("b", dependsOn: "c"),
            Step("c", dependsOn: "a"),
            Step("d", dependsOn: "a"));

        Assert.Equal("a", diagnostic.Step);
        Assert.Contains("cycle: a -> b -> c -> a.", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AStepThatDependsOnItselfIsACycle()
    {
        Assert.Contains("solo -> solo", SingleInvalid(ErrorCodes.DependencyCycle, Step("solo", dependsOn: "solo")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACycleThroughInferredEdgesIsFound()
    {
        var diagnostic = SingleInvalid(ErrorCodes.DependencyCycle,
            Step("a", inputs: "b.csv", outputs: "a.csv"),
            Step("b", inputs: "a.csv", outputs: "b.csv"));

        Assert.Contains("a -> b -> a", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("data/train.csv", "data/train.csv")]
    [InlineData("data/", "data/train.csv")]
    [InlineData("data/train.csv", "data/")]
    [InlineData("data/", "data/")]
    [InlineData("data/", "data/sub/")]
    public void OverlappingOutputsOfTwoStepsAreMLP1006(string first, string second)
    {
        var diagnostic = SingleInvalid(ErrorCodes.DuplicateOutput, Step("a", outputs: first), Step("b", outputs: second));

        Assert.Equal("b", diagnostic.Step);
        Assert.Contains($"'{second}'", diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("'a'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("data/train.csv", "data/test.csv")]
    [InlineData("data/", "database/")]
    [InlineData("model/a", "model/ab")]
    public void OutputsThatOnlyShareAPrefixDoNotConflict(string first, string second)
    {
        Valid(Step("a", outputs: first), Step("b", outputs: second));
    }

    [Theory]
    [InlineData("data/train.csv", "data/train.csv")]
    [InlineData("data/", "data/")]
    [InlineData("data/train.csv", "data/")]
    [InlineData("data/", "data/train.csv")]
    [InlineData("data/*.csv", "data/clean.csv")]
    [InlineData("data/**/*.csv", "data/out/")]
    [InlineData("**/*.csv", "model/")]
    [InlineData("data/**", "data/out.bin")]
    [InlineData("*.csv", "clean.csv")]
    public void AnOutputOverlappingTheStepsOwnInputIsMLP1007(string input, string output)
    {
        var diagnostic = SingleInvalid(ErrorCodes.OutputOverlapsInput, Step("clean", inputs: input, outputs: output));

        Assert.Equal("clean", diagnostic.Step);
        Assert.Contains($"'{output}'", diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains($"'{input}'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Code", "gen.sh", "gen.sh", "code file")]
    [InlineData("Code", "scripts/*.sh", "scripts/train.sh", "code file")]
    [InlineData("FileDependencies", "cfg.json", "cfg.json", "file dependency")]
    [InlineData("FileDependencies", "config/", "config/cfg.json", "file dependency")]
    [InlineData("SourceDependencies", "src/", "src/out/", "source dependency")]
    [InlineData("SourceDependencies", "tools/featurize/featurize.csproj", "tools/featurize/Program.cs", "source dependency")]
    [InlineData("SourceDependencies", "tools/featurize/featurize.csproj", "shared/", "source dependency")]
    public void AnOutputOverlappingWhatTheStepsKeyHashesIsMLP1007(string metadata, string path, string output, string what)
    {
        var step = metadata switch
        {
            "Code" => Step("clean", code: path, outputs: output),
            "FileDependencies" => Step("clean", fileDependencies: path, outputs: output),
            _ => Step("clean", sourceDependencies: path, outputs: output),
        };
        var diagnostics = new List<PipelineDiagnostic>();

        Assert.Null(PipelineGraph.Build([step], diagnostics, Featurize));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal((ErrorCodes.OutputOverlapsInput, "clean"), (diagnostic.Code, diagnostic.Step));
        Assert.Contains($"Output '{output}' of step 'clean' overlaps its own {what} '{path}'.", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AStepMayWriteIntoItsOwnProjectsFolderAndItsOwnWorkingDirectory()
    {
        // Building a tool into its own bin/ writes nothing MSBuild evaluated as its source; a step may write where it runs.
        Valid(Featurize,
            Step("compile", sourceDependencies: "tools/featurize/featurize.csproj", outputs: "tools/featurize/bin/"),
            Step("render", workingDirectory: "site", outputs: "site/"));
    }

    [Theory]
    [InlineData("raw/iris.csv", "data/iris.csv")]
    [InlineData("raw/", "data/")]
    [InlineData("raw/*.csv", "data/")]
    [InlineData("data/*.csv", "data/out.bin")]
    [InlineData("*.csv", "model/")]
    [InlineData("data/*.csv", "data/sub/")]
    [InlineData("src/**/*.cs", "bin/")]
    public void AnOutputTheStepsInputCannotReadIsNoConflict(string input, string output)
    {
        Valid(Step("clean", inputs: input, outputs: output));
    }

    [Fact]
    public void ReadingAnotherStepsOutputFileInfersAnEdge()
    {
        var graph = Valid(Step("train", inputs: "data/train.csv", outputs: "model/"), Step("load", outputs: "data/train.csv;data/test.csv"));

        Assert.Equal(["load"], graph.UpstreamOf("train"));
        Assert.Empty(graph.UpstreamOf("load"));
        Assert.Equal(["load", "train"], graph.Steps.Select(s => s.Name));
    }

    [Fact]
    public void AFileUnderAnOutputDirectoryInfersAnEdge()
    {
        var graph = Valid(Step("report", inputs: "model/weights.bin"), Step("train", outputs: "model/"));

        Assert.Equal(["train"], graph.UpstreamOf("report"));
    }

    [Theory]
    [InlineData("data/*.csv", "data/train.csv")]
    [InlineData("data/**/*.csv", "data/split/")]
    [InlineData("**/*.bin", "model/")]
    public void AGlobInputInfersAnEdgeToTheOutputsItCanMatch(string input, string output)
    {
        var graph = Valid(Step("consume", inputs: input), Step("produce", outputs: output));

        Assert.Equal(["produce"], graph.UpstreamOf("consume"));
    }

    [Theory]
    [InlineData("data/*.csv", "data/train.parquet")]
    [InlineData("*.csv", "model/")]
    [InlineData("data/*.csv", "data/split/")]
    public void AGlobInputInfersNoEdgeToOutputsItCannotMatch(string input, string output)
    {
        var graph = Valid(Step("consume", inputs: input), Step("produce", outputs: output));

        Assert.Empty(graph.UpstreamOf("consume"));
    }

    [Theory]
    [InlineData("cfg.json", "cfg.json")]
    [InlineData("config/", "config/train.json")]
    [InlineData("config/*.json", "config/train.json")]
    [InlineData("config/**", "config/")]
    public void AFileDependencyOnAnotherStepsOutputInfersAnEdge(string fileDependency, string output)
    {
        // Declared consumer first: only the edge can put the producer before it.
        var graph = Valid(Step("train", fileDependencies: fileDependency), Step("gen", outputs: output));

        Assert.Equal(["gen"], graph.UpstreamOf("train"));
        Assert.Equal(["gen", "train"], graph.Steps.Select(s => s.Name));
        Assert.Empty(graph.InferredWholeUpstreamOf("train")); // Its files are hashed one by one: no need to count gen whole.
    }

    [Theory]
    [InlineData("gen/train.sh", "gen/")]
    [InlineData("gen/*.sh", "gen/train.sh")]
    [InlineData("lib/", "lib/generated.py")]
    public void CodeFromAnotherStepsOutputInfersAnEdge(string code, string output)
    {
        var graph = Valid(Step("train", code: code), Step("gen", outputs: output));

        Assert.Equal(["gen"], graph.UpstreamOf("train"));
    }

    [Theory]
    [InlineData("src/", "src/Generated.cs")]
    [InlineData("src/**/*.cs", "src/gen/")]
    public void ASourceFolderHoldingAnotherStepsOutputInfersAnEdge(string sourceDependency, string output)
    {
        var graph = Valid(Step("build", sourceDependencies: sourceDependency), Step("gen", outputs: output));

        Assert.Equal(["gen"], graph.UpstreamOf("build"));
    }

    [Theory]
    [InlineData("data/*.csv", "data/train.parquet")]
    [InlineData("config.json", "config.json.bak")]
    public void APathThatCannotHoldAnotherStepsOutputInfersNoEdge(string path, string output)
    {
        var graph = Valid(Step("train", code: path, fileDependencies: path, sourceDependencies: path), Step("gen", outputs: output));

        Assert.Empty(graph.UpstreamOf("train"));
    }

    [Theory]
    [InlineData("tools/featurize/Generated/")]
    [InlineData("tools/featurize/Generated/Features.g.cs")]
    [InlineData("tools/featurize/Program.cs")]
    public void AnOutputInAProjectsFolderFeedsThatProjectAndCountsWhole(string output)
    {
        // A file generated into the project's folder may be missing from the sources evaluated before the run.
        var graph = Valid(Featurize, Step("featurize", sourceDependencies: "tools/featurize/featurize.csproj"), Step("gen", outputs: output));

        Assert.Equal(["gen"], graph.UpstreamOf("featurize"));
        Assert.Equal(["gen"], graph.InferredWholeUpstreamOf("featurize"));
    }

    [Fact]
    public void AnEvaluatedSourceOutsideTheProjectsFolderFeedsItFileByFile()
    {
        var graph = Valid(Featurize,
            Step("featurize", sourceDependencies: "tools/featurize/featurize.csproj"),
            Step("gen", outputs: "shared/Linked.cs"),
            Step("other", outputs: "shared/Other.cs"));

        Assert.Equal(["gen"], graph.UpstreamOf("featurize"));
        Assert.Empty(graph.InferredWholeUpstreamOf("featurize"));
    }

    [Fact]
    public void AProjectInThePipelinesOwnFolderIsFedOnlyByItsEvaluatedFiles()
    {
        var sources = new Dictionary<string, IReadOnlyList<string>> { ["app.csproj"] = ["Program.cs", "app.csproj"] };

        var graph = Valid(sources,
            Step("run", sourceDependencies: "app.csproj", outputs: "model/"),
            Step("gen", outputs: "Program.cs"),
            Step("report", inputs: "model/m.bin", outputs: "report.md"));

        Assert.Equal(["gen"], graph.UpstreamOf("run"));
        Assert.Empty(graph.InferredWholeUpstreamOf("run"));
    }

    [Theory]
    [InlineData("tools/out", "tools/out/")]
    [InlineData("tools/out/bin", "tools/out/")]
    [InlineData("tools/out", "tools/")]
    public void RunningInsideAnotherStepsOutputDirectoryInfersAnEdgeThatCountsWhole(string workingDirectory, string output)
    {
        var graph = Valid(Step("run", workingDirectory: workingDirectory), Step("gen", outputs: output));

        Assert.Equal(["gen"], graph.UpstreamOf("run"));
        Assert.Equal(["gen"], graph.InferredWholeUpstreamOf("run"));
    }

    [Theory]
    [InlineData("", "tools/out/")]
    [InlineData("tools", "tools/out/")]
    [InlineData("tools/out", "tools/outside/")]
    public void AWorkingDirectoryThatIsNotInsideAnOutputInfersNoEdge(string workingDirectory, string output)
    {
        var graph = Valid(Step("run", workingDirectory: workingDirectory), Step("gen", outputs: output));

        Assert.Empty(graph.UpstreamOf("run"));
    }

    [Fact]
    public void ADeclaredDependencyIsNotRepeatedAmongTheInferredWholeOnes()
    {
        var graph = Valid(Step("run", workingDirectory: "tools/out", dependsOn: "GEN"), Step("gen", outputs: "tools/out/"));

        Assert.Equal(["gen"], graph.UpstreamOf("run"));
        Assert.Empty(graph.InferredWholeUpstreamOf("run"));
    }

    [Fact]
    public void ACycleThroughAFileDependencyIsFound()
    {
        var diagnostic = SingleInvalid(ErrorCodes.DependencyCycle,
            Step("a", fileDependencies: "b.json", outputs: "a.json"),
            Step("b", code: "a.json", outputs: "b.json"));

        Assert.Contains("a -> b -> a", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnInferredEdgeIsNotAddedTwiceNextToADeclaredOne()
    {
        var graph = Valid(Step("a", outputs: "a.csv"), Step("b", inputs: "a.csv", dependsOn: "a;A"));

        Assert.Equal(["a"], graph.UpstreamOf("b"));
    }

    [Fact]
    public void StepsComeInDependencyOrderWithTiesInDeclarationOrder()
    {
        var graph = Valid(
            Step("evaluate", inputs: "model/m.bin;data/test.csv", outputs: "report.md"),
            Step("notify", dependsOn: "evaluate"),
            Step("train", inputs: "data/train.csv", outputs: "model/"),
            Step("lint"),
            Step("load", inputs: "raw/iris.csv", outputs: "data/"));

        var order = graph.Steps.Select(s => s.Name).ToList();

        Assert.Equal(["load", "train", "evaluate", "notify", "lint"], order);
        Assert.Equal(["load", "train"], graph.UpstreamOf("evaluate").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void WithUpstreamCollectsEverythingAStepNeeds()
    {
        var graph = Valid(Step("a"), Step("b", dependsOn: "a"), Step("c", dependsOn: "b"), Step("d", dependsOn: "a"), Step("e"));

        Assert.True(graph.WithUpstream(["C"]).SetEquals(["a", "b", "c"]));
        Assert.Equal(["a", "d", "e"], graph.WithUpstream(["d", "e"]).Order(StringComparer.Ordinal));
        Assert.True(graph.Contains("B"));
        Assert.Equal("b", graph["B"].Name);
    }

    [Fact]
    public void WithDownstreamCollectsEverythingThatNeedsAStep()
    {
        var graph = Valid(Step("a"), Step("b", dependsOn: "a"), Step("c", dependsOn: "b"), Step("d", dependsOn: "a"), Step("e"));

        Assert.True(graph.WithDownstream("b").SetEquals(["b", "c"]));
        Assert.True(graph.WithDownstream("a").SetEquals(["a", "b", "c", "d"]));
        Assert.True(graph.WithDownstream("e").SetEquals(["e"]));
    }

    [Fact]
    public void AllGraphProblemsAreReportedTogether()
    {
        var codes = Invalid(
                Step("a", outputs: "x.csv", dependsOn: "ghost"),
                Step("b", outputs: "x.csv"),
                Step("a"))
            .Select(d => d.Code)
            .Order(StringComparer.Ordinal);

        Assert.Equal([ErrorCodes.DuplicateStepName, ErrorCodes.UnknownDependency, ErrorCodes.DuplicateOutput], codes);
    }
}
