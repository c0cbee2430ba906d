using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Keys;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Keys;

public sealed class StepKeyCalculatorTests : IDisposable
{
    private static readonly byte[] Secret = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    private readonly TempDirectory _project = new();

    public StepKeyCalculatorTests() => WriteProjectFiles(_project);

    public void Dispose() => _project.Dispose();

    private static void WriteProjectFiles(TempDirectory project)
    {
        project.Write("train.cs", "Console.WriteLine(\"train\");");
        project.Write("data/train.csv", "x,y\n1,2\n");
        project.Write("data/log.txt", "noise");
        project.Write("requirements.txt", "numpy==2.0");
        project.Subdirectory("src");
    }

    /// <summary>The SPEC example's train step, with every component the key can hold.</summary>
    private static StepDefinition Train() => new()
    {
        Name = "train",
        Command = "dotnet run train.cs",
        Environment = [new("MODE", "fast")],
        Code = ["train.cs"],
        Inputs = ["data/train.csv"],
        Outputs = ["model/"],
        Parameters = [new("Gamma", "0.002")],
        DependsOn = ["load"],
        FileDependencies = ["requirements.txt"],
    };

    /// <summary>A fresh calculator per key, as a new build would have: nothing remembered between the two.</summary>
    private StepKey Key(StepDefinition step, string pipeline = "iris", TempDirectory? project = null, Func<StepDefinition, string>? keyCommand = null) =>
        new StepKeyCalculator((project ?? _project).Path, pipeline, new FileHasher(), Secret) { KeyCommandRunner = keyCommand }.Compute(step);

    private static IEnumerable<string> ChangedKinds(StepKey before, StepKey after) =>
        before.Components.Except(after.Components).Concat(after.Components.Except(before.Components)).Select(c => c.Kind).Distinct();

    [Fact]
    public void TheSameStepAndFilesGiveTheSameKey()
    {
        var first = Key(Train());
        var second = Key(Train());

        Assert.Matches("^[0-9a-f]{32}$", first.Value);
        Assert.Equal(first.Value, second.Value);
        Assert.Equal(first.Components, second.Components);
    }

    [Fact]
    public void TheKeyHoldsTheFormatPipelineAndStep()
    {
        var components = Key(Train()).Components;

        Assert.Contains(components, c => c is { Kind: ComponentKind.Format, Value: StepKeyCalculator.FormatVersion });
        Assert.Contains(components, c => c is { Kind: ComponentKind.Pipeline, Value: "iris" });
        Assert.Contains(components, c => c is { Kind: ComponentKind.Step, Value: "train" });
        Assert.Contains(components, c => c is { Kind: ComponentKind.Input, Name: "data/train.csv" } && c.Hash == ContentHash.OfText("x,y\n1,2\n"));
        Assert.Contains(components, c => c is { Kind: ComponentKind.Code, Name: "train.cs" });
        Assert.Contains(components, c => c is { Kind: ComponentKind.Output, Name: "model/" });
    }

    [Theory]
    [InlineData("command", ComponentKind.Command)]
    [InlineData("working directory", ComponentKind.WorkingDirectory)]
    [InlineData("environment", ComponentKind.StepEnvironment)]
    [InlineData("code content", ComponentKind.Code)]
    [InlineData("parameter", ComponentKind.Parameter)]
    [InlineData("input content", ComponentKind.Input)]
    [InlineData("output path", ComponentKind.Output)]
    [InlineData("pipeline name", ComponentKind.Pipeline)]
    [InlineData("step name", ComponentKind.Step)]
    [InlineData("cache version", ComponentKind.CacheVersion)]
    [InlineData("depends on", ComponentKind.DependsOn)]
    [InlineData("file dependency", ComponentKind.FileDependency)]
    [InlineData("settings", ComponentKind.Settings)]
    public void EachComponentChangesTheKey(string change, string expectedKind)
    {
        var step = Train();
        var pipeline = "iris";
        var before = Key(step with { CacheVersion = change == "cache version" ? "v1" : null });

        switch (change)
        {
            case "command": step = step with { Command = "dotnet run train.cs --fast" }; break;
            case "working directory": step = step with { WorkingDirectory = "src" }; break;
            case "environment": step = step with { Environment = [new("MODE", "slow")] }; break;
            case "code content": _project.Write("train.cs", "Console.WriteLine(\"train v2\");"); break;
            case "parameter": step = step with { Parameters = [new("Gamma", "0.0001")] }; break;
            case "input content": _project.Write("data/train.csv", "x,y\n1,3\n"); break;
            case "output path": step = step with { Outputs = ["models/"] }; break;
            case "pipeline name": pipeline = "wine"; break;
            case "step name": step = step with { Name = "train2" }; break;
            case "cache version": step = step with { CacheVersion = "v2" }; break;
            case "depends on": step = step with { DependsOn = ["load", "clean"] }; break;
            case "file dependency": _project.Write("requirements.txt", "numpy==2.1"); break;
            case "settings": step = step with { IncludeArtifactIds = true }; break;
            default: throw new ArgumentOutOfRangeException(nameof(change));
        }

        var after = Key(step with { CacheVersion = change == "cache version" ? "v2" : null }, pipeline);

        Assert.NotEqual(before.Value, after.Value);
        var kinds = ChangedKinds(before, after).ToList();
        Assert.Contains(expectedKind, kinds);
        Assert.All(kinds, kind => Assert.True(kind == expectedKind || (change == "settings" && kind == ComponentKind.Input), $"Unexpected change in {kind}."));
    }

    [Fact]
    public void DeclarationOrderOfInputsDoesNotMatter()
    {
        var step = Train() with { Inputs = ["data/train.csv", "data/log.txt"] };

        Assert.Equal(Key(step).Value, Key(step with { Inputs = ["data/log.txt", "data/train.csv"] }).Value);
    }

    [Theory]
    [InlineData(false, CacheStrategy.CodeHash)]
    [InlineData(true, CacheStrategy.InputHash)]
    public void WhenCodeDoesNotCountCommandEnvironmentAndCodeAreIgnored(bool includeStepCode, CacheStrategy strategy)
    {
        var step = Train() with { IncludeStepCode = includeStepCode, CacheStrategy = strategy };
        var before = Key(step);

        _project.Write("train.cs", "// rewritten");
        var after = Key(step with { Command = "python train.py", Environment = [new("MODE", "slow")], WorkingDirectory = "src" });

        Assert.Equal(before.Value, after.Value);
        Assert.DoesNotContain(after.Components, c => c.Kind is ComponentKind.Code or ComponentKind.Command or ComponentKind.StepEnvironment or ComponentKind.WorkingDirectory);
    }

    [Fact]
    public void WhenCodeDoesNotCountInputsStillDo()
    {
        var step = Train() with { CacheStrategy = CacheStrategy.InputHash };
        var before = Key(step);

        _project.Write("data/train.csv", "x,y\n9,9\n");

        Assert.NotEqual(before.Value, Key(step).Value);
    }

    [Fact]
    public void IncludeStepParametersFalseIgnoresParameters()
    {
        var step = Train() with { IncludeStepParameters = false };

        Assert.Equal(Key(step).Value, Key(step with { Parameters = [new("Gamma", "0.5"), new("Seed", "1")] }).Value);
    }

    [Fact]
    public void IncludeArtifactValuesFalseIgnoresInputContent()
    {
        var step = Train() with { IncludeArtifactValues = false };
        var before = Key(step);

        _project.Write("data/train.csv", "completely different");

        Assert.Equal(before.Value, Key(step).Value);
    }

    [Fact]
    public void IncludeArtifactIdsCountsSizeAndTimeOfAPlainInputWithoutReadingIt()
    {
        var step = Train() with { IncludeArtifactValues = false, IncludeArtifactIds = true };
        var path = _project.Combine("data/train.csv");
        File.SetLastWriteTimeUtc(path, new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var before = Key(step);

        File.SetLastWriteTimeUtc(path, new DateTime(2030, 1, 2, 0, 0, 0, DateTimeKind.Utc));
        var after = Key(step);

        Assert.NotEqual(before.Value, after.Value);
        Assert.Contains(after.Components, c => c is { Kind: ComponentKind.Input, Name: "data/train.csv#id" });
        Assert.DoesNotContain(after.Components, c => c is { Kind: ComponentKind.Input, Name: "data/train.csv" });
    }

    [Fact]
    public void IncludeArtifactIdsSeesARewriteThatKeepsSizeAndModificationTime()
    {
        var step = Train() with { IncludeArtifactValues = false, IncludeArtifactIds = true };
        var path = _project.Combine("data/train.csv");
        var written = new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, written);
        var before = Key(step);
        Assert.Equal(before.Value, Key(step).Value);

        // Longer than a file clock's tick, so the rewrite gets a later change time.
        Thread.Sleep(50);
        File.WriteAllText(path, new string('z', (int)new FileInfo(path).Length));
        File.SetLastWriteTimeUtc(path, written);

        Assert.NotEqual(before.Value, Key(step).Value);
    }

    [Fact]
    public void IncludeArtifactIdsOfADanglingLinkIsAMissingInput()
    {
        var step = Train() with { IncludeArtifactValues = false, IncludeArtifactIds = true };
        var path = _project.Combine("data/train.csv");
        File.Delete(path);
        File.CreateSymbolicLink(path, "gone.csv");

        var error = Assert.Throws<MissingKeyFileException>(() => Key(step));
        Assert.Equal("data/train.csv", error.Path);
    }

    [Fact]
    public void IncludeArtifactIdsUsesTheProducersKeyForAnUpstreamOutput()
    {
        var step = Train() with { IncludeArtifactValues = false, IncludeArtifactIds = true };
        var calculator = new StepKeyCalculator(_project.Path, "iris", new FileHasher(), Secret);

        var before = calculator.Compute(step, file => file == "data/train.csv" ? "producer-key-1" : null);
        File.SetLastWriteTimeUtc(_project.Combine("data/train.csv"), new DateTime(2030, 1, 2, 0, 0, 0, DateTimeKind.Utc));
        var sameProducer = calculator.Compute(step, file => file == "data/train.csv" ? "producer-key-1" : null);
        var otherProducer = calculator.Compute(step, file => file == "data/train.csv" ? "producer-key-2" : null);

        Assert.Equal(before.Value, sameProducer.Value);
        Assert.NotEqual(before.Value, otherProducer.Value);
    }

    [Fact]
    public void EachDependsOnStepsOutputsJoinTheKeyByContent()
    {
        var step = Train() with { DependsOn = ["load", "clean"] };
        var calculator = new StepKeyCalculator(_project.Path, "iris", new FileHasher(), Secret);
        var digests = new Dictionary<string, string> { ["load"] = "digest-load-1", ["clean"] = "digest-clean-1" };

        var before = calculator.Compute(step, upstreamOutputs: name => digests[name]);
        var same = calculator.Compute(step, upstreamOutputs: name => digests[name]);
        digests["load"] = "digest-load-2";
        var after = calculator.Compute(step, upstreamOutputs: name => digests[name]);

        Assert.Equal(before.Value, same.Value);
        Assert.NotEqual(before.Value, after.Value);
        Assert.Equal(["clean", "load"], before.Components.Where(c => c.Kind == ComponentKind.UpstreamOutputs).Select(c => c.Name));
        Assert.Contains(before.Components, c => c is { Kind: ComponentKind.UpstreamOutputs, Name: "load", Hash: "digest-load-1" });
        var changed = Assert.Single(before.Components.Except(after.Components));
        Assert.Equal((ComponentKind.UpstreamOutputs, "load"), (changed.Kind, changed.Name));
        Assert.Contains(after.Components, c => c is { Kind: ComponentKind.DependsOn, Name: "load" });
    }

    [Fact]
    public void UpstreamOutputsCountWhateverTheCodeAndArtifactSettings()
    {
        var step = Train() with { CacheStrategy = CacheStrategy.InputHash, IncludeArtifactValues = false, IncludeStepParameters = false };
        var calculator = new StepKeyCalculator(_project.Path, "iris", new FileHasher(), Secret);

        Assert.NotEqual(calculator.Compute(step, upstreamOutputs: _ => "digest-1").Value, calculator.Compute(step, upstreamOutputs: _ => "digest-2").Value);
    }

    [Fact]
    public void UnknownUpstreamOutputsGiveAKeyNoOtherComputationGives()
    {
        var calculator = new StepKeyCalculator(_project.Path, "iris", new FileHasher(), Secret);

        var first = calculator.Compute(Train(), upstreamOutputs: _ => null);
        var second = calculator.Compute(Train(), upstreamOutputs: _ => null);

        Assert.NotEqual(first.Value, second.Value);
        Assert.Contains(first.Components, c => c is { Kind: ComponentKind.UpstreamOutputs, Name: "load" });
    }

    [Fact]
    public void AnUpstreamStepNamedTwiceCountsOnce()
    {
        var calculator = new StepKeyCalculator(_project.Path, "iris", new FileHasher(), Secret) { InferredUpstreamOf = _ => ["LOAD"] };

        var key = calculator.Compute(Train() with { DependsOn = ["load", "Load"] }, upstreamOutputs: _ => "digest");

        Assert.Equal("load", Assert.Single(key.Components, c => c.Kind == ComponentKind.UpstreamOutputs).Name);
    }

    [Fact]
    public void InferredUpstreamStepsJoinTheKeyLikeDependsOnSteps()
    {
        var digests = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["load"] = "digest-load", ["gen"] = "digest-gen-1" };
        var calculator = new StepKeyCalculator(_project.Path, "iris", new FileHasher(), Secret) { InferredUpstreamOf = name => name == "train" ? ["gen"] : [] };

        var before = calculator.Compute(Train(), upstreamOutputs: name => digests[name]);
        digests["gen"] = "digest-gen-2";
        var after = calculator.Compute(Train(), upstreamOutputs: name => digests[name]);

        Assert.NotEqual(before.Value, after.Value);
        Assert.Equal([(ComponentKind.UpstreamOutputs, "gen")], before.Components.Except(after.Components).Select(c => (c.Kind, c.Name)));
        Assert.DoesNotContain(before.Components, c => c is { Kind: ComponentKind.DependsOn, Name: "gen" });
    }

    [Fact]
    public void WithoutAnUpstreamLookupNoUpstreamComponentIsAdded()
    {
        Assert.DoesNotContain(Key(Train()).Components, c => c.Kind == ComponentKind.UpstreamOutputs);
    }

    [Fact]
    public void IgnoredInputsLeaveOutAParameterAndAnInputPath()
    {
        var step = Train() with
        {
            Inputs = ["data/train.csv", "data/log.txt"],
            Parameters = [new("Gamma", "0.002"), new("Seed", "1")],
            IgnoredInputs = ["Seed", "./data/log.txt"],
        };
        var before = Key(step);

        _project.Write("data/log.txt", "more noise, longer");
        var after = Key(step with { Parameters = [new("Gamma", "0.002"), new("Seed", "2")] });

        Assert.Equal(before.Value, after.Value);
        Assert.DoesNotContain(after.Components, c => c.Name is "Seed" or "data/log.txt");
        Assert.Contains(after.Components, c => c is { Kind: ComponentKind.Input, Name: "data/train.csv" });

        _project.Write("data/train.csv", "x,y\n5,5\n");
        Assert.NotEqual(before.Value, Key(step).Value);
    }

    [Theory]
    [InlineData("data/*.txt", "data/log.txt")]
    [InlineData("data/**", "data/train.csv")]
    [InlineData("logs/", "logs/run.log")]
    [InlineData("logs", "logs/run.log")]
    public void IgnoredInputsTakeGlobsAndDirectories(string ignored, string changedFile)
    {
        _project.Write("logs/run.log", "1");
        var step = Train() with { Inputs = ["data/train.csv", "data/log.txt", "logs/"], IgnoredInputs = [ignored] };
        var before = Key(step);

        _project.Write(changedFile, "changed, and longer than before");

        Assert.Equal(before.Value, Key(step).Value);
        Assert.NotEqual(before.Value, Key(step with { IgnoredInputs = [] }).Value);
    }

    [Fact]
    public void AnEnvironmentDependencyCountsButItsValueIsNeverStoredInClear()
    {
        var name = "MLP_TEST_SECRET_" + Guid.NewGuid().ToString("N");
        var secretValue = "s3cr3t-" + Guid.NewGuid().ToString("N");
        var step = Train() with { EnvironmentDependencies = [name] };
        try
        {
            var unset = Key(step);
            Environment.SetEnvironmentVariable(name, secretValue);
            var set = Key(step);
            Environment.SetEnvironmentVariable(name, secretValue + "-rotated");
            var rotated = Key(step);

            Assert.NotEqual(unset.Value, set.Value);
            Assert.NotEqual(set.Value, rotated.Value);
            var component = Assert.Single(set.Components, c => c.Kind == ComponentKind.EnvironmentDependency);
            Assert.Equal(name, component.Name);
            Assert.Null(component.Value);
            Assert.NotEqual(ContentHash.OfText(secretValue), component.Hash);
            Assert.All(set.Components, c =>
            {
                Assert.DoesNotContain(secretValue, c.Name, StringComparison.Ordinal);
                Assert.DoesNotContain(secretValue, c.Hash, StringComparison.Ordinal);
                Assert.DoesNotContain(secretValue, c.Value ?? "", StringComparison.Ordinal);
            });
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void TheSameEnvironmentValueHashesDifferentlyInAnotherStore()
    {
        var name = "MLP_TEST_VALUE_" + Guid.NewGuid().ToString("N");
        var step = Train() with { EnvironmentDependencies = [name] };
        try
        {
            Environment.SetEnvironmentVariable(name, "same");
            var ours = Key(step);
            var theirs = new StepKeyCalculator(_project.Path, "iris", new FileHasher(), [.. Secret.Reverse()]).Compute(step);

            Assert.NotEqual(ours.Value, theirs.Value);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void AStepEnvironmentValueIsHashedWithTheStoresSecret()
    {
        var step = Train() with { Environment = [new("API_TOKEN", "tok-1234")] };
        StepKey WithSecret(byte[] secret) => new StepKeyCalculator(_project.Path, "iris", new FileHasher(), secret).Compute(step);
        KeyComponent EnvironmentOf(StepKey key) => Assert.Single(key.Components, c => c.Kind == ComponentKind.StepEnvironment);

        var ours = EnvironmentOf(WithSecret(Secret));
        var oursAgain = EnvironmentOf(WithSecret(Secret));
        var theirs = EnvironmentOf(WithSecret([.. Secret.Reverse()]));

        Assert.Equal(ours, oursAgain);
        Assert.NotEqual(ours.Hash, theirs.Hash);
        Assert.Matches("^[0-9a-f]{32}$", ours.Hash);
        Assert.NotEqual(ContentHash.OfText("tok-1234"), ours.Hash);
        Assert.Equal("API_TOKEN", ours.Name);
        Assert.Null(ours.Value);
        Assert.NotEqual(ours.Hash, EnvironmentOf(Key(step with { Environment = [new("API_TOKEN", "tok-1235")] })).Hash);
    }

    [Fact]
    public void TheKeyCommandsOutputCounts()
    {
        var step = Train() with { CacheKeyCommand = "git rev-parse HEAD" };

        var first = Key(step, keyCommand: _ => "etag-1");
        var same = Key(step, keyCommand: _ => "etag-1");
        var changed = Key(step, keyCommand: _ => "etag-2");

        Assert.Equal(first.Value, same.Value);
        Assert.NotEqual(first.Value, changed.Value);
        Assert.Equal([ComponentKind.KeyCommand], ChangedKinds(first, changed));
    }

    [Fact]
    public void AMissingInputOrCodeFileIsReportedByKindAndPath()
    {
        var missingInput = Assert.Throws<MissingKeyFileException>(() => Key(Train() with { Inputs = ["data/absent.csv"] }));
        var missingCode = Assert.Throws<MissingKeyFileException>(() => Key(Train() with { Code = ["gone.cs"] }));

        Assert.Equal(("Input", "data/absent.csv"), (missingInput.Kind, missingInput.Path));
        Assert.Equal(("Code file", "gone.cs"), (missingCode.Kind, missingCode.Path));
    }

    [Theory]
    [InlineData("Input")]
    [InlineData("Code file")]
    [InlineData("File dependency")]
    [InlineData("Source dependency")]
    public void AMissingDirectoryIsReportedLikeAMissingFile(string kind)
    {
        var step = kind switch
        {
            "Input" => Train() with { Inputs = ["raw/"] },
            "Code file" => Train() with { Code = ["lib/"] },
            "File dependency" => Train() with { FileDependencies = ["conf/"] },
            _ => Train() with { SourceDependencies = ["tools/"] },
        };

        var missing = Assert.Throws<MissingKeyFileException>(() => Key(step));

        Assert.Equal(kind, missing.Kind);
        Assert.Equal(step.Inputs.Concat(step.Code).Concat(step.FileDependencies).Concat(step.SourceDependencies).Single(p => p.EndsWith('/')), missing.Path);
        Assert.Equal("does not exist", missing.Problem);
    }

    [Fact]
    public void AGlobThatMatchesNoFileIsAWarningNamingTheStepAndTheGlob()
    {
        var step = Train() with { Inputs = ["data/*.csv", "data/*.parquet"], FileDependencies = ["conf/*.json"], Code = ["train.cs", "lib/**/*.cs"] };

        var key = Key(step);

        Assert.Equal(
            [
                "Code file glob 'lib/**/*.cs' of step 'train' matches no file, so the step's key holds no file for it. Check the pattern, or remove it from the step.",
                "Input glob 'data/*.parquet' of step 'train' matches no file, so the step's key holds no file for it. Check the pattern, or remove it from the step.",
                "File dependency glob 'conf/*.json' of step 'train' matches no file, so the step's key holds no file for it. Check the pattern, or remove it from the step.",
            ],
            key.Warnings.Select(w => w.Message));
        Assert.All(key.Warnings, w => Assert.Equal((ErrorCodes.InputGlobMatchesNothing, "train"), (w.Code, w.Step)));
        Assert.Contains(key.Components, c => c is { Kind: ComponentKind.Input, Name: "data/train.csv" });
        Assert.Empty(Key(Train()).Warnings);
    }

    [Fact]
    public void AGlobWhoseFilesAreAllIgnoredIsNoWarning()
    {
        var key = Key(Train() with { Inputs = ["data/*.txt"], IgnoredInputs = ["data/log.txt"] });

        Assert.Empty(key.Warnings);
        Assert.DoesNotContain(key.Components, c => c.Kind == ComponentKind.Input);
    }

    [Fact]
    public void AnUpstreamDirectoryAPlanExpectsRestoredCountsAsExisting()
    {
        var calculator = new StepKeyCalculator(_project.Path, "iris", new FileHasher(), Secret);
        var step = Train() with { Inputs = ["model/", "features/"] };
        var restored = new Dictionary<string, string> { ["model/"] = "", ["features/f.csv"] = ContentHash.OfText("f") };

        var key = calculator.Compute(step, virtualFiles: restored);

        Assert.Equal(["features/f.csv"], key.Components.Where(c => c.Kind == ComponentKind.Input).Select(c => c.Name));
    }

    [Fact]
    public void ADanglingSymbolicLinkIsReportedAsMissingNamingTheLink()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Creating symbolic links needs a privilege there.
        }

        _project.Subdirectory("lib");
        File.CreateSymbolicLink(_project.Combine("data/link.csv"), "gone.csv");
        File.CreateSymbolicLink(_project.Combine("lib/helper.cs"), _project.Combine("nowhere/helper.cs"));
        File.CreateSymbolicLink(_project.Combine("deps.txt"), "requirements.old");

        var declared = Assert.Throws<MissingKeyFileException>(() => Key(Train() with { Inputs = ["data/link.csv"] }));
        var inDirectory = Assert.Throws<MissingKeyFileException>(() => Key(Train() with { Inputs = ["data/"] }));
        var code = Assert.Throws<MissingKeyFileException>(() => Key(Train() with { Code = ["lib/"] }));
        var dependency = Assert.Throws<MissingKeyFileException>(() => Key(Train() with { FileDependencies = ["*.txt"] }));
        var byIdentity = Assert.Throws<MissingKeyFileException>(() =>
            Key(Train() with { Inputs = ["data/"], IncludeArtifactValues = false, IncludeArtifactIds = true }));

        Assert.Equal(("Input", "data/link.csv", "gone.csv"), (declared.Kind, declared.Path, declared.LinkTarget));
        Assert.Equal("is a symbolic link to 'gone.csv', which does not exist", declared.Problem);
        Assert.Equal(("Input", "data/link.csv"), (inDirectory.Kind, inDirectory.Path));
        Assert.Equal(("Code file", "lib/helper.cs"), (code.Kind, code.Path));
        Assert.Equal(("File dependency", "deps.txt"), (dependency.Kind, dependency.Path));
        Assert.Equal(("Input", "data/link.csv"), (byIdentity.Kind, byIdentity.Path));
    }

    [Fact]
    public void ASymbolicLinkToItselfIsReportedAsMissing()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Creating symbolic links needs a privilege there.
        }

        File.CreateSymbolicLink(_project.Combine("data/loop.csv"), "loop.csv");

        var missing = Assert.Throws<MissingKeyFileException>(() => Key(Train() with { Inputs = ["data/"] }));

        Assert.Equal(("Input", "data/loop.csv", "loop.csv"), (missing.Kind, missing.Path, missing.LinkTarget));
    }

    [Fact]
    public void ASymbolicLinkToAFileCountsItsTargetsContent()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Creating symbolic links needs a privilege there.
        }

        File.CreateSymbolicLink(_project.Combine("data/link.csv"), "train.csv");

        var key = Key(Train() with { Inputs = ["data/link.csv"] });

        Assert.Contains(key.Components, c => c is { Kind: ComponentKind.Input, Name: "data/link.csv" } && c.Hash == ContentHash.OfText("x,y\n1,2\n"));
    }

    [Fact]
    public void TheSameProjectInAnotherDirectoryGetsTheSameKey()
    {
        using var moved = new TempDirectory();
        WriteProjectFiles(moved);
        var step = Train() with { Inputs = ["data/"], WorkingDirectory = "src", SourceDependencies = ["src/"] };

        var here = Key(step);
        var there = Key(step, project: moved);

        Assert.NotEqual(_project.Path, moved.Path);
        Assert.Equal(here.Value, there.Value);
        Assert.Equal(here.Components, there.Components);
        Assert.All(there.Components, c => Assert.DoesNotContain(moved.Path, c.Name + c.Value, StringComparison.Ordinal));
    }

    [Fact]
    public void ALongValueIsKeptOnlyAsAHash()
    {
        var longValue = new string('x', 500);

        var components = Key(Train() with { Parameters = [new("Big", longValue), new("Small", "1")] }).Components;

        Assert.Null(Assert.Single(components, c => c.Name == "Big").Value);
        Assert.Equal("1", Assert.Single(components, c => c.Name == "Small").Value);
    }
}
