using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// SPEC <c>Outputs</c> and <c>PersistOutputs</c>: what is stored is only what this run of the step wrote, and a hit
/// makes every declared output exactly the entry's (extra files removed, empty folders and links restored, a path whose
/// type changed replaced), staging nothing among the outputs, whatever a crash interrupts. Also SPEC "Change
/// detection": a step whose input changed while it ran is not stored.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class ExactOutputTests(SdkPackage package, ITestOutputHelper output)
{
    private const string ArmVariable = "MLPIPELINES_TEST_CRASH_ARM";
    private const string PointVariable = "MLPIPELINES_TEST_CRASH_POINT";
    private const string ArmPhrase = "kill-this-build-for-a-test";

    /// <summary>The example: V=a, then b, then a again must give a model folder with a.bin only.</summary>
    [Fact]
    public void AnOutputFolderHoldsOnlyWhatTheStepWroteForItsKey()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("V", "a")
            .Step("gen", "mkdir -p model; echo $PARAM_V > model/$PARAM_V.bin", parameters: "V=$(V)", outputs: "model/")
            .Step("use", "ls model > use.txt", inputs: "model/", outputs: "use.txt")
            .Save(workspace);

        workspace.RunPipeline("-p:V=a").EnsureSucceeded();
        Assert.Equal("a.bin\n", workspace.ReadFile("use.txt"));

        BuildResult b = workspace.RunPipeline("-p:V=b").EnsureSucceeded();
        b.EnsureMiss("gen", "parameter V changed (a -> b)").EnsureMiss("use", "input model/b.bin added; input model/a.bin removed");
        Assert.Equal(["model/b.bin"], workspace.ListFiles("model"));
        Assert.Equal("b.bin\n", workspace.ReadFile("use.txt"));

        BuildResult again = workspace.RunPipeline("-p:V=a").EnsureSucceeded();
        again.EnsureHit("gen").EnsureHit("use");
        Assert.Equal(["model/a.bin"], workspace.ListFiles("model"));
        Assert.Equal("a\n", workspace.ReadFile("model/a.bin"));
        Assert.Equal("a.bin\n", workspace.ReadFile("use.txt"));
    }

    [Fact]
    public void OutputsAreRemovedBeforeAStepExecutesUnlessItPersistsThem()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("N", "1")
            .Step("fresh", "mkdir -p fresh && echo $PARAM_N >> fresh/log.txt && echo $PARAM_N >> fresh.txt", parameters: "N=$(N)", outputs: "fresh/;fresh.txt")
            .Step("appended", "echo $PARAM_N >> appended.txt", parameters: "N=$(N)", outputs: "appended.txt",
                metadata: [new("PersistOutputs", "true")])
            .Save(workspace);
        workspace.WriteFile("fresh/stale-from-before.txt", "stale");

        workspace.RunPipeline("-p:N=1").EnsureSucceeded();
        Assert.Equal(["fresh/log.txt"], workspace.ListFiles("fresh"));
        workspace.RunPipeline("-p:N=2").EnsureSucceeded();

        Assert.Equal("2\n", workspace.ReadFile("fresh/log.txt"));
        Assert.Equal("2\n", workspace.ReadFile("fresh.txt"));
        Assert.Equal("1\n2\n", workspace.ReadFile("appended.txt"));
    }

    [Fact]
    public void AHitRemovesWhatTheEntryDoesNotHoldAndRestoresEmptyFoldersAndLinks()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("train", "mkdir -p model/empty/deeper && echo w > model/v1.bin && ln -s v1.bin model/latest", outputs: "model/")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();

        workspace.WriteFile("model/stray.bin", "not the step's").WriteFile("model/empty/deeper/stray.txt", "x");
        BuildResult extra = workspace.RunPipeline().EnsureSucceeded();
        extra.EnsureHit("train").EnsureLine("Removed 2 paths from the outputs of train that its cached result does not hold.");
        Assert.Equal(["empty/", "empty/deeper/", "latest", "v1.bin"], Shape(workspace, "model"));

        workspace.Delete("model");
        BuildResult restored = workspace.RunPipeline().EnsureSucceeded();
        restored.EnsureHit("train").EnsureLine("Restored 2 output files of train from the cache.");
        Assert.Equal(["empty/", "empty/deeper/", "latest", "v1.bin"], Shape(workspace, "model"));
        Assert.Equal("v1.bin", new FileInfo(workspace.GetPath("model/latest")).LinkTarget);
        Assert.Equal("w\n", workspace.ReadFile("model/latest"));
    }

    [Fact]
    public void APathWhoseTypeChangedIsReplacedOnAHit()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("report", "echo report > report.txt && mkdir -p charts && echo c > charts/a.svg", outputs: "report.txt;charts/")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();

        workspace.Delete("report.txt").WriteFile("report.txt/inner.txt", "a folder now");
        workspace.Delete("charts/a.svg").WriteFile("charts/a.svg/inner.txt", "a folder now");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("report");

        Assert.Equal("report\n", workspace.ReadFile("report.txt"));
        Assert.Equal("c\n", workspace.ReadFile("charts/a.svg"));
    }

    [Fact]
    public void AnOutputLinkOutOfTheProjectIsNotCachedAndTheWarningNamesIt()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .TracedStep("export", "mkdir -p out && echo data > out/data.txt && ln -sf /etc/hostname out/host", outputs: "out/")
            .Save(workspace);

        BuildResult first = workspace.RunPipeline().EnsureSucceeded();
        BuildMessage warning = Assert.Single(first.Warnings, w => w.Code == "MLP3006");
        Assert.Contains("'out/host'", warning.Message, StringComparison.Ordinal);
        Assert.Contains("export", warning.Message, StringComparison.Ordinal);

        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("export", "no earlier result");
        Assert.Equal(["export", "export"], workspace.Executed());
    }

    [Theory]
    [InlineData("restore-staged")]
    [InlineData("restore-partial")]
    public void ABuildKilledWhileRestoringLeavesNothingAmongTheOutputsAndTheNextBuildIsExact(string point)
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("train", "mkdir -p model/sub && for i in 1 2 3 4; do echo w$i > model/w$i.bin; done && echo s > model/sub/s.bin", outputs: "model/")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        workspace.Delete("model").WriteFile("model/stray.bin", "stray");

        BuildResult killed = Crashing(workspace, point).RunPipeline();
        Assert.False(killed.Succeeded, $"Expected the armed build to die at {point}.\n{killed}");
        Assert.DoesNotContain("Using cached version of train.", killed.Output, StringComparison.Ordinal);

        // Whatever the crash left among the outputs is either the stray file or one of the entry's files, whole.
        string[] entryFiles = ["sub/s.bin", "w1.bin", "w2.bin", "w3.bin", "w4.bin"];
        foreach (string file in Files(workspace, "model"))
        {
            Assert.True(file == "stray.bin" || entryFiles.Contains(file), $"Unexpected file model/{file} after a crash at {point}.");
        }

        BuildResult next = workspace.RunPipeline().EnsureSucceeded();
        next.EnsureHit("train");
        Assert.Equal(entryFiles, Files(workspace, "model"));
        Assert.Equal("w3\n", workspace.ReadFile("model/w3.bin"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(workspace.GetPath(".mlpipelines/staging")));
    }

    [Fact]
    public void ABuildKilledAfterStoringObjectsButBeforeTheEntryExecutesTheStepAgainCorrectly()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .TracedStep("train", "mkdir -p model && echo w > model/w.bin", outputs: "model/")
            .Save(workspace);

        Assert.False(Crashing(workspace, "objects-stored").RunPipeline().Succeeded);

        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");
        workspace.Delete("model");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train");
        Assert.Equal("w\n", workspace.ReadFile("model/w.bin"));
        Assert.Equal(["train", "train"], workspace.Executed());
    }

    [Fact]
    public void TheCrashSwitchNeedsItsArmingPhrase()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version).Step("train", "echo w > w.bin", outputs: "w.bin").Save(workspace);

        var unarmed = new DotnetRunner(workspace);
        unarmed.Environment[PointVariable] = "objects-stored";
        unarmed.Environment[ArmVariable] = "yes";

        unarmed.RunPipeline().EnsureSucceeded();
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train");
    }

    /// <summary>The example: a step that waits, then copies data.txt, rewritten meanwhile.</summary>
    [Fact]
    public async Task AnInputRewrittenWhileTheStepRunsIsNotStored()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("data.txt", "old\n");
        PipelineProject.Create(package.Version)
            .TracedStep("copy", "touch waiting && while [ ! -f go ]; do sleep 0.1; done && cp data.txt copy.txt", inputs: "data.txt", outputs: "copy.txt")
            .Save(workspace);

        var runner = new DotnetRunner(workspace);
        Task<BuildResult> build = Task.Run(() => runner.RunPipeline());
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!workspace.FileExists("waiting") && !build.IsCompleted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        workspace.WriteFile("data.txt", "new\n").WriteFile("go", "");
        BuildResult result = (await build).EnsureSucceeded();

        BuildMessage warning = Assert.Single(result.Warnings, w => w.Code == "MLP2009");
        Assert.Contains("step 'copy' changed while it ran (input data.txt changed)", warning.Message, StringComparison.Ordinal);
        Assert.Equal("new\n", workspace.ReadFile("copy.txt"));

        workspace.Delete("waiting");
        BuildResult next = workspace.RunPipeline().EnsureSucceeded();
        next.EnsureMiss("copy", "no earlier result");
        Assert.Equal("new\n", workspace.ReadFile("copy.txt"));
        Assert.Equal(["copy", "copy"], workspace.Executed());
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("copy");
    }

    /// <summary>A tester's case: a step that builds its folder aside and renames it into place.</summary>
    [Fact]
    public void AStepThatRenamesAFolderIntoPlaceGetsTheSameResultAsOnAFreshCheckout()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("X", "a")
            .Step("gen", "rm -rf out.tmp && mkdir out.tmp && echo $PARAM_X > out.tmp/model.txt && mv out.tmp out", parameters: "X=$(X)", outputs: "out/")
            .Save(workspace);

        workspace.RunPipeline("-p:X=a").EnsureSucceeded();
        workspace.RunPipeline("-p:X=b").EnsureSucceeded();

        Assert.Equal(["out/model.txt"], workspace.ListFiles("out"));
        Assert.Equal("b\n", workspace.ReadFile("out/model.txt"));
    }

    [Fact]
    public void AStepThatNoLongerWritesItsOutputFolderFailsAsOnAFreshCheckout()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("Broken", "false")
            .Step("gen", "if [ $PARAM_Broken = false ]; then mkdir -p out && echo ok > out/ok.txt; fi", parameters: "Broken=$(Broken)", outputs: "out/")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();

        BuildResult broken = workspace.RunPipeline("-p:Broken=true").EnsureFailed();

        Assert.True(broken.HasError("MLP2002"), $"Expected MLP2002.\n{broken}");
        Assert.False(workspace.DirectoryExists("out"));
    }

    [Fact]
    public void AChainOfLinksOutOfTheProjectIsNotCachedEvenWhenItsTextStaysInside()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .TracedStep("s", "mkdir -p out && echo hi > out/f.txt && ln -s .. out/sub && ln -s sub/.. out/l", outputs: "out/")
            .Save(workspace);

        BuildResult first = workspace.RunPipeline().EnsureSucceeded();

        BuildMessage warning = Assert.Single(first.Warnings, w => w.Code == "MLP3006");
        Assert.Contains("'out/l'", warning.Message, StringComparison.Ordinal);
        Assert.Empty(StoreInspector.Of(workspace).Entries());
    }

    [Fact]
    public void AnOutputInsideThePipelineCacheIsMLP1019BeforeAnyStepRuns()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Property("PipelineCacheDir", "$(MSBuildProjectDirectory)/out")
            .TracedStep("gen", "mkdir -p out && echo a > out/a.txt", outputs: "out/")
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors, e => e.Code == "MLP1019");
        Assert.Contains("Output 'out/' of step 'gen' lies in the pipeline cache", error.Message, StringComparison.Ordinal);
        Assert.Empty(workspace.Executed());
    }

    /// <summary>A second tester's case: a linked folder (common for data sets) would take an output out of the project.</summary>
    [Fact]
    public void AnOutputBelowALinkedFolderOutsideTheProjectIsMLP1008AndNothingThereIsTouched()
    {
        using Workspace workspace = Workspace.Create(package, output);
        string outside = Path.Combine(workspace.Root, "outside");
        Directory.CreateDirectory(Path.Combine(outside, "sub"));
        File.WriteAllText(Path.Combine(outside, "sub", "precious.txt"), "keep");
        workspace.Run("ln", "-s", outside, "ext").EnsureSucceeded();
        PipelineProject.Create(package.Version)
            .TracedStep("b", "mkdir -p ext/sub && echo gen > ext/sub/gen.txt", outputs: "ext/sub/")
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors, e => e.Code == "MLP1008");
        Assert.StartsWith("Output 'ext/sub/' of step 'b' leads outside the project directory through a symbolic link", error.Message, StringComparison.Ordinal);
        Assert.Equal("keep", File.ReadAllText(Path.Combine(outside, "sub", "precious.txt")));
        Assert.Empty(workspace.Executed());
    }

    [Fact]
    public void OutputsOfTwoStepsThatMeetThroughALinkAreMLP1006()
    {
        using Workspace workspace = Workspace.Create(package, output);
        Directory.CreateDirectory(workspace.GetPath("out"));
        workspace.Run("ln", "-s", "out", "al").EnsureSucceeded();
        PipelineProject.Create(package.Version)
            .TracedStep("a", "mkdir -p out && echo a > out/a.txt", outputs: "out/")
            .TracedStep("b", "echo b > al/b.txt", outputs: "al/b.txt")
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors, e => e.Code == "MLP1006");
        Assert.Contains("Output 'al/b.txt' of step 'b' is the same place as output 'out/' of step 'a'", error.Message, StringComparison.Ordinal);
        Assert.Empty(workspace.Executed());
    }

    /// <summary>A runner whose builds kill themselves at <paramref name="point"/> (the test-only crash switch, armed).</summary>
    private static DotnetRunner Crashing(Workspace workspace, string point)
    {
        var runner = new DotnetRunner(workspace);
        runner.Environment[ArmVariable] = ArmPhrase;
        runner.Environment[PointVariable] = point;
        return runner;
    }

    /// <summary>Paths below a folder, sorted: folders end in '/', links and files by name; links are not followed.</summary>
    private static List<string> Shape(Workspace workspace, string folder)
    {
        string root = workspace.GetPath(folder);
        return new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(i => Path.GetRelativePath(root, i.FullName).Replace('\\', '/') + (i is DirectoryInfo && i.LinkTarget is null ? "/" : ""))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static List<string> Files(Workspace workspace, string folder) =>
        Directory.Exists(workspace.GetPath(folder)) ? Shape(workspace, folder).Where(p => !p.EndsWith('/')).ToList() : [];
}
