using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Policies;

/// <summary>
/// The key knobs of the SPEC <c>&lt;Step&gt;</c> table (ZenML's CachePolicy, flowyml's code_hash / input_hash,
/// Uniflow's cache_version). Each test shows both sides: the change the knob says to count re-runs the step, and the
/// change it says to leave out keeps the hit.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class KeyKnobTests(SdkPackage package, ITestOutputHelper output)
{
    [Theory]
    [InlineData("CacheStrategy", "InputHash")]
    [InlineData("IncludeStepCode", "false")]
    public void WithoutStepCodeEditingTheCodeAndCommandKeepsTheHitWhileAnInputEditMisses(string knob, string value)
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("train.sh", "cat data/train.csv > model.txt\n");
        workspace.WriteFile("data/train.csv", "x,y\n1,2\n");
        PipelineProject.Create(package.Version)
            .PropertyDefault("Mode", "fast")
            .Step("train", "sh train.sh $(Mode)", inputs: "data/train.csv", outputs: "model.txt", code: "train.sh",
                metadata: [new(knob, value)])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        // The code file and the command text: neither counts.
        workspace.WriteFile("train.sh", "cat data/train.csv > model.txt\necho edited code ran\n");
        BuildResult codeEdited = workspace.RunPipeline(DotnetRunner.Property("Mode", "slow")).EnsureSucceeded().EnsureHit("train");
        Assert.False(codeEdited.HasLine("train: edited code ran"), codeEdited.ToString());

        workspace.WriteFile("data/train.csv", "x,y\n1,3\n");
        workspace.RunPipeline(DotnetRunner.Property("Mode", "slow")).EnsureSucceeded()
            .EnsureMiss("train", "input data/train.csv changed")
            .EnsureLine("train: edited code ran");
        Assert.Equal("x,y\n1,3\n", workspace.ReadFile("model.txt"));
    }

    [Fact]
    public void WithoutStepParametersAParameterChangeKeepsTheHitWhileAnInputEditMisses()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("data/train.csv", "x,y\n1,2\n");
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "0.002")
            .Step("train", "echo $PARAM_Gamma > model.txt", inputs: "data/train.csv", outputs: "model.txt",
                parameters: "Gamma=$(Gamma)", metadata: [new("IncludeStepParameters", "false")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.RunPipeline(DotnetRunner.Property("Gamma", "0.5")).EnsureSucceeded().EnsureHit("train");
        Assert.Equal("0.002", workspace.ReadFile("model.txt").Trim());

        // The parameter changed too, but is not named: only what counts is.
        workspace.WriteFile("data/train.csv", "x,y\n1,3\n");
        workspace.RunPipeline(DotnetRunner.Property("Gamma", "0.5")).EnsureSucceeded().EnsureMiss("train", "input data/train.csv changed");
        Assert.Equal("0.5", workspace.ReadFile("model.txt").Trim());
    }

    [Fact]
    public void WithoutArtifactValuesAnInputEditKeepsTheHitWhileAParameterChangeMisses()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("data/train.csv", "x,y\n1,2\n");
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "0.002")
            .Step("train", "cat data/train.csv > model.txt", inputs: "data/train.csv", outputs: "model.txt",
                parameters: "Gamma=$(Gamma)", metadata: [new("IncludeArtifactValues", "false")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.WriteFile("data/train.csv", "x,y\n1,3\n4,5\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train");
        Assert.Equal("x,y\n1,2\n", workspace.ReadFile("model.txt"));

        workspace.RunPipeline(DotnetRunner.Property("Gamma", "0.5")).EnsureSucceeded().EnsureMiss("train", "parameter Gamma changed (0.002 -> 0.5)");
        Assert.Equal("x,y\n1,3\n4,5\n", workspace.ReadFile("model.txt"));
    }

    [Fact]
    public void ArtifactIdsOfAPlainFileAreItsPathSizeAndTimeNotItsContent()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("data/big.bin", "AAAAAAAA");
        workspace.WriteFile("config.txt", "epochs=10\n");
        var written = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        workspace.SetLastWriteTimeUtc("data/big.bin", written).SetLastWriteTimeUtc("config.txt", written);
        PipelineProject.Create(package.Version)
            .Step("train", "cat data/big.bin > model.txt", inputs: "data/big.bin", outputs: "model.txt",
                metadata: [new("IncludeArtifactIds", "true"), new("IncludeArtifactValues", "false"), new("FileDependencies", "config.txt")])
            .Save(workspace);
        // Files changed less than 2 s before they are hashed are racy: their stamps are not kept.
        Thread.Sleep(TimeSpan.FromSeconds(2.5));
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        // The store remembers the hash of every file it read: the file dependency's, and none of the input's.
        IReadOnlyList<string> hashed = StoreInspector.Of(workspace).FileStampPaths();
        Assert.Contains(hashed, path => path.EndsWith("/config.txt", StringComparison.Ordinal));
        Assert.DoesNotContain(hashed, path => path.EndsWith("/big.bin", StringComparison.Ordinal));

        // Nothing touched: the same identity.
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train");

        // Other bytes of the same size, and the same modification time: the change time moved, so the identity did.
        workspace.WriteFile("data/big.bin", "BBBBBBBB");
        workspace.SetLastWriteTimeUtc("data/big.bin", written);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "input data/big.bin identity changed");
        Assert.Equal("BBBBBBBB", workspace.ReadFile("model.txt"));

        // Only touched: the same bytes, a new modification time. Not the content: the identity.
        workspace.SetLastWriteTimeUtc("data/big.bin", written.AddHours(1));
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "input data/big.bin identity changed");
        Assert.Equal("BBBBBBBB", workspace.ReadFile("model.txt"));
    }

    /// <summary>
    /// The identity of an upstream output is what its producer gave, by content (its outputs digest), not the
    /// producer's key: SPEC said "the producing step's key", but a producer can execute again under the same key
    /// (forced, expired, cache off) and write other bytes, which a key-based identity would hide (a wrong hit). The
    /// digest comes from the producer's manifest, so the file is still never read for it.
    /// </summary>
    [Fact]
    public void ArtifactIdsOfAnUpstreamOutputAreWhatTheProducingStepGave()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("Seed", "1")
            .PropertyDefault("Rows", "rows")
            // The seed changes load's key only; Rows changes the bytes it writes.
            .Step("load", "mkdir -p data && echo $PARAM_Rows > data/rows.txt", outputs: "data/rows.txt", parameters: "Seed=$(Seed);Rows=$(Rows)")
            .Step("train", "cat data/rows.txt > model.txt", inputs: "data/rows.txt", outputs: "model.txt",
                metadata: [new("IncludeArtifactIds", "true"), new("IncludeArtifactValues", "false")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("load", "no earlier result").EnsureMiss("train", "no earlier result");

        // load's key changes while data/rows.txt keeps its bytes: train keeps its result (early cutoff).
        workspace.RunPipeline(DotnetRunner.Property("Seed", "2")).EnsureSucceeded()
            .EnsureMiss("load", "parameter Seed changed (1 -> 2)")
            .EnsureHit("train");

        // Other bytes: train misses on the identity and reads them.
        workspace.RunPipeline(DotnetRunner.Property("Seed", "2"), DotnetRunner.Property("Rows", "more")).EnsureSucceeded()
            .EnsureMiss("train", "input data/rows.txt identity changed");
        Assert.Equal("more\n", workspace.ReadFile("model.txt"));
    }

    [Fact]
    public void IgnoredInputsLeaveOutParametersAndPathsButTheStepStillGetsThem()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("data/train.csv", "x,y\n1,2\n");
        workspace.WriteFile("data/run.log", "first run\n");
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "0.002")
            .PropertyDefault("Verbose", "false")
            .Step("train", "echo $PARAM_Verbose > verbose.txt && cat data/train.csv > model.txt",
                inputs: "data/", outputs: "model.txt;verbose.txt", parameters: "Gamma=$(Gamma);Verbose=$(Verbose)",
                metadata: [new("IgnoredInputs", "Verbose;data/*.log")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");
        Assert.Equal("false", workspace.ReadFile("verbose.txt").Trim());

        workspace.WriteFile("data/run.log", "second run, longer\n");
        workspace.RunPipeline(DotnetRunner.Property("Verbose", "true")).EnsureSucceeded().EnsureHit("train");

        workspace.WriteFile("data/train.csv", "x,y\n1,3\n");
        workspace.RunPipeline(DotnetRunner.Property("Verbose", "true")).EnsureSucceeded().EnsureMiss("train", "input data/train.csv changed");
        Assert.Equal("true", workspace.ReadFile("verbose.txt").Trim());
    }

    [Fact]
    public void AFileDependencyCountsByContentNotByTime()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("config/settings.json", "{ \"epochs\": 10 }\n");
        PipelineProject.Create(package.Version)
            .Step("train", "echo trained > model.txt", outputs: "model.txt",
                metadata: [new("FileDependencies", "config/settings.json")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.SetLastWriteTimeUtc("config/settings.json", new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        workspace.WriteFile("config/other.json", "{ \"unrelated\": true }\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train");

        workspace.WriteFile("config/settings.json", "{ \"epochs\": 20 }\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "file dependency config/settings.json changed");
    }

    [Fact]
    public void AProjectSourceDependencyCountsItsCompileItemsButNotOtherFilesNextToThem()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("src/tool/tool.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup></Project>\n");
        workspace.WriteFile("src/tool/Program.cs", "System.Console.WriteLine(\"v1\");\n");
        workspace.WriteFile("src/tool/README.txt", "The tool.\n");
        PipelineProject.Create(package.Version)
            .Step("train", "echo trained > model.txt", outputs: "model.txt",
                metadata: [new("SourceDependencies", "src/tool/tool.csproj")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.WriteFile("src/tool/README.txt", "The tool, documented at length.\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train");

        workspace.WriteFile("src/tool/Program.cs", "System.Console.WriteLine(\"v2\");\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "source src/tool/Program.cs changed");

        workspace.WriteFile("src/tool/tool.csproj",
            "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable></PropertyGroup></Project>\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "source src/tool/tool.csproj changed");
    }

    [Fact]
    public void AMissingSourceDependencyProjectIsAnErrorWithACode()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("train", "echo trained > model.txt", outputs: "model.txt",
                metadata: [new("SourceDependencies", "src/gone/gone.csproj")])
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        // Like any declared file that is missing: the step's error, with the product's code, not MSBuild's MSB3202.
        BuildMessage error = Assert.Single(result.Errors);
        Assert.Equal("MLP2005", error.Code);
        Assert.Contains("src/gone/gone.csproj", error.Message, StringComparison.Ordinal);
        Assert.Contains("train", error.Message, StringComparison.Ordinal);
        Assert.False(workspace.FileExists("model.txt"), result.ToString());
    }

    [Fact]
    public void AFolderSourceDependencyCountsEveryFileBelowIt()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("lib/util.sh", "echo util\n");
        workspace.WriteFile("lib/deep/nested/helper.sh", "echo helper v1\n");
        workspace.WriteFile("notes.txt", "not source\n");
        PipelineProject.Create(package.Version)
            .Step("train", "echo trained > model.txt", outputs: "model.txt", metadata: [new("SourceDependencies", "lib/")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.WriteFile("notes.txt", "still not source\n");
        workspace.SetLastWriteTimeUtc("lib/util.sh", new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train");

        workspace.WriteFile("lib/deep/nested/helper.sh", "echo helper v2\n");
        workspace.WriteFile("lib/deep/new.sh", "echo new\n");
        string? reason = workspace.RunPipeline().EnsureSucceeded().MissReason("train");
        Assert.NotNull(reason);
        Assert.Contains("source lib/deep/nested/helper.sh changed", reason, StringComparison.Ordinal);
        Assert.Contains("source lib/deep/new.sh added", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEnvironmentDependencyCountsItsOwnVariableOnly()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("train", "echo trained > model.txt", outputs: "model.txt", metadata: [new("EnvironmentDependencies", "MY_VAR")])
            .Save(workspace);
        DotnetRunner Runner(string mine, string other) =>
            new(workspace) { Environment = { ["MY_VAR"] = mine, ["OTHER_VAR"] = other } };
        Runner("a", "x").RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        Runner("a", "y").RunPipeline().EnsureSucceeded().EnsureHit("train");

        Runner("b", "y").RunPipeline().EnsureSucceeded().EnsureMiss("train", "environment MY_VAR changed");
    }

    [Fact]
    public void EnvironmentDependenciesSeparatedByCommasKeyEachName()
    {
        // The tester's case: "SEED,OTHER" was one always-unset name, so SEED=2 hit with SEED=1's output.
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("t", "echo SEED=$SEED > out2.txt", outputs: "out2.txt", metadata: [new("EnvironmentDependencies", "SEED,OTHER")])
            .Save(workspace);
        DotnetRunner Runner(string seed, string other) =>
            new(workspace) { Environment = { ["SEED"] = seed, ["OTHER"] = other } };
        Runner("1", "x").RunPipeline().EnsureSucceeded().EnsureMiss("t", "no earlier result");

        Runner("2", "x").RunPipeline().EnsureSucceeded().EnsureMiss("t", "environment SEED changed");
        Assert.Equal("SEED=2\n", workspace.ReadFile("out2.txt"));

        Runner("2", "y").RunPipeline().EnsureSucceeded().EnsureMiss("t", "environment OTHER changed");
    }

    [Fact]
    public void EnvironmentDependenciesThatDifferOnlyInCaseKeyBothVariables()
    {
        // On Unix seed and SEED are two variables. The list was deduplicated ignoring case, as step names are, so SEED
        // was dropped from the key: SEED=2 hit with SEED=1's output. (On Windows they are one variable.)
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("t", "echo seed=$seed SEED=$SEED > out3.txt", outputs: "out3.txt", metadata: [new("EnvironmentDependencies", "seed; SEED;;")])
            .Save(workspace);
        DotnetRunner Runner(string lower, string upper) =>
            new(workspace) { Environment = { ["seed"] = lower, ["SEED"] = upper } };
        Runner("a", "1").RunPipeline().EnsureSucceeded().EnsureMiss("t", "no earlier result");

        Runner("a", "2").RunPipeline().EnsureSucceeded().EnsureMiss("t", "environment SEED changed");
        Assert.Equal("seed=a SEED=2\n", workspace.ReadFile("out3.txt"));

        Runner("b", "2").RunPipeline().EnsureSucceeded().EnsureMiss("t", "environment seed changed");
        Runner("b", "2").RunPipeline().EnsureSucceeded().EnsureHit("t");
    }

    [Fact]
    public void ACacheKeyCommandCountsItsStandardOutputOnly()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("remote.txt", "rev1\nnotes: first\n");
        PipelineProject.Create(package.Version)
            .Step("train", "echo trained > model.txt", outputs: "model.txt",
                metadata: [new("CacheKeyCommand", "read rev < remote.txt; echo $rev; cat remote.txt 1>&2")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        // The notes change what the command writes to standard error, not to standard output.
        workspace.WriteFile("remote.txt", "rev1\nnotes: second, longer\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train").EnsureLine("train: notes: second, longer");

        workspace.WriteFile("remote.txt", "rev2\nnotes: second, longer\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "key command output changed");
    }

    [Fact]
    public void AFailingCacheKeyCommandIsAnErrorNotASilentMiss()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("etag.txt", "etag-1\n");
        PipelineProject.Create(package.Version)
            .Step("train", "echo trained > model.txt && echo ran >> runs.txt", outputs: "model.txt",
                metadata: [new("CacheKeyCommand", "cat etag.txt")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.Delete("etag.txt");
        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors, e => e.Code == "MLP2006");
        Assert.Contains("train", error.Message, StringComparison.Ordinal);
        Assert.Null(result.MissReason("train"));
        Assert.False(result.HasLine("Using cached version of train."), result.ToString());
        Assert.Equal("ran\n", workspace.ReadFile("runs.txt"));
    }

    [Fact]
    public void ACacheVersionCountsAndAnEarlierVersionIsStillReusable()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("ModelVersion", "v1")
            .Step("train", "echo $PARAM_Version > model.txt", outputs: "model.txt", parameters: "Version=$(ModelVersion)",
                metadata: [new("CacheVersion", "$(ModelVersion)"), new("IgnoredInputs", "Version")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.RunPipeline(DotnetRunner.Property("ModelVersion", "v2")).EnsureSucceeded().EnsureMiss("train", "cache version v1 -> v2");
        Assert.Equal("v2", workspace.ReadFile("model.txt").Trim());

        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train");
        Assert.Equal("v1", workspace.ReadFile("model.txt").Trim());
    }

    [Fact]
    public void ABadCacheVersionOrExpiresAfterIsAnErrorBeforeAnyStepRuns()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("first", "echo ran > first.txt", outputs: "first.txt", metadata: [new("CacheVersion", "v1.0")])
            .Step("second", "echo ran > second.txt", outputs: "second.txt", metadata: [new("ExpiresAfter", "soon")])
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage version = Assert.Single(result.Errors, e => e.Code == "MLP1009");
        Assert.Contains("first", version.Message, StringComparison.Ordinal);
        Assert.Contains("v1.0", version.Message, StringComparison.Ordinal);
        Assert.Equal(workspace.GetPath(PipelineRuns.Project), version.File);
        BuildMessage expires = Assert.Single(result.Errors, e => e.Code == "MLP1010");
        Assert.Contains("second", expires.Message, StringComparison.Ordinal);
        Assert.Contains("soon", expires.Message, StringComparison.Ordinal);
        Assert.Empty(result.LinesContaining("has started."));
        Assert.False(workspace.FileExists("first.txt") || workspace.FileExists("second.txt"), result.ToString());
    }

    [Fact]
    public void AnExpiredResultIsNotReusedAndTheNewResultReplacesIt()
    {
        // In seconds here; MissReasonTests gives it as a TimeSpan.
        const string expiresAfter = "7200";
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("stamp.txt", "first\n");
        PipelineProject.Create(package.Version)
            // stamp.txt is read but left out of the key: what model.txt holds tells which run made the entry.
            .Step("train", "cat stamp.txt > model.txt", inputs: "stamp.txt", outputs: "model.txt",
                metadata: [new("ExpiresAfter", expiresAfter), new("IgnoredInputs", "stamp.txt")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");
        var store = StoreInspector.Of(workspace);

        // One hour old with a lifetime of two: still good.
        store.AgeEntries("train", TimeSpan.FromHours(1));
        workspace.WriteFile("stamp.txt", "second\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train");
        Assert.Equal("first\n", workspace.ReadFile("model.txt"));

        // Three hours old: expired an hour ago.
        store.AgeEntries("train", TimeSpan.FromHours(2));
        DateTimeOffset beforeRun = DateTimeOffset.UtcNow.AddMinutes(-1);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "expired 1h ago");
        Assert.Equal("second\n", workspace.ReadFile("model.txt"));

        DateTimeOffset createdAt = Assert.Single(store.Entries("train")).CreatedAt;
        Assert.True(createdAt >= beforeRun, $"The entry of train was made at {createdAt:O}, before this run: it was not replaced.");
    }
}
