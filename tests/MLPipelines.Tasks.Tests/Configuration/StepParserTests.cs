using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Configuration;

public sealed class StepParserTests : IDisposable
{
    private readonly TempDirectory _project = new();

    public void Dispose() => _project.Dispose();

    private (StepDefinition? Step, List<PipelineDiagnostic> Diagnostics) ParseOne(RawStep raw)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var steps = StepParser.Parse([raw], _project.Path, diagnostics);
        return (steps.SingleOrDefault(), diagnostics);
    }

    private StepDefinition ParseValid(params (string Key, string Value)[] metadata)
    {
        var (step, diagnostics) = ParseOne(Raw.Step("s", "run", metadata));
        Assert.Empty(diagnostics);
        return step!;
    }

    private PipelineDiagnostic ParseInvalid(RawStep raw)
    {
        var (step, diagnostics) = ParseOne(raw);
        Assert.Null(step);
        return Assert.Single(diagnostics);
    }

    [Fact]
    public void AValidStepKeepsItsMetadata()
    {
        var step = ParseValid(
            ("Environment", "MODE=fast; LEVEL = 3"),
            ("DependsOn", "load; clean"),
            ("Parameters", "Gamma=0.002;Url=http://x/?a=b;Seed=1"),
            ("Inputs", "data.csv;logs/"),
            ("EnableCache", "false"),
            ("CacheStrategy", "inputhash"),
            ("IncludeArtifactIds", "True"),
            ("IgnoredInputs", "logs/;Seed"),
            ("EnvironmentDependencies", "API_TOKEN"),
            ("CacheKeyCommand", "git rev-parse HEAD"),
            ("CacheVersion", "v2_a-b"),
            ("ExpiresAfter", "3600"));

        Assert.Equal("s", step.Name);
        Assert.Equal("run", step.Command);
        Assert.Equal([new NamedValue("MODE", "fast"), new NamedValue("LEVEL", "3")], step.Environment);
        Assert.Equal(["load", "clean"], step.DependsOn);
        Assert.Equal([new NamedValue("Gamma", "0.002"), new NamedValue("Url", "http://x/?a=b"), new NamedValue("Seed", "1")], step.Parameters);
        Assert.False(step.EnableCache);
        Assert.Equal(CacheStrategy.InputHash, step.CacheStrategy);
        Assert.False(step.CodeCounts);
        Assert.True(step.IncludeArtifactIds);
        Assert.Equal(["logs/", "Seed"], step.IgnoredInputs);
        Assert.Equal(["API_TOKEN"], step.EnvironmentDependencies);
        Assert.Equal("git rev-parse HEAD", step.CacheKeyCommand);
        Assert.Equal("v2_a-b", step.CacheVersion);
        Assert.Equal(TimeSpan.FromHours(1), step.ExpiresAfter);
    }

    [Fact]
    public void DefaultsApplyWhenMetadataIsAbsentOrEmpty()
    {
        var step = ParseValid(("EnableCache", ""), ("CacheStrategy", " "), ("IncludeStepCode", ""));

        Assert.Null(step.EnableCache);
        Assert.Equal(CacheStrategy.CodeHash, step.CacheStrategy);
        Assert.True(step.IncludeStepCode);
        Assert.True(step.IncludeStepParameters);
        Assert.True(step.IncludeArtifactValues);
        Assert.False(step.IncludeArtifactIds);
        Assert.True(step.CodeCounts);
        Assert.Equal("", step.WorkingDirectory);
        Assert.Null(step.CacheVersion);
        Assert.Null(step.ExpiresAfter);
        Assert.Null(step.CacheKeyCommand);
    }

    [Theory]
    [InlineData("./a/../b.csv", "b.csv")]
    [InlineData("data\\train.csv", "data/train.csv")]
    [InlineData("data//raw/./x.csv", "data/raw/x.csv")]
    [InlineData("model/", "model/")]
    [InlineData("./model/sub/../", "model/")]
    [InlineData("data/**/*.csv", "data/**/*.csv")]
    [InlineData(" spaced.csv ", "spaced.csv")]
    public void PathsNormaliseToProjectRelativeSlashForm(string written, string expected)
    {
        var step = ParseValid(("Inputs", written), ("Code", written), ("FileDependencies", written), ("SourceDependencies", written));

        Assert.Equal([expected], step.Inputs);
        Assert.Equal([expected], step.Code);
        Assert.Equal([expected], step.FileDependencies);
        Assert.Equal([expected], step.SourceDependencies);
    }

    [Fact]
    public void OutputsNormaliseAndKeepTheTrailingSlashOfDirectories()
    {
        var step = ParseValid(("Outputs", "./a/../b.csv; model/ ;" + _project.Combine("abs/x.bin")));

        Assert.Equal(["b.csv", "model/", "abs/x.bin"], step.Outputs);
    }

    [Fact]
    public void WorkingDirectoryIsProjectRelativeWithoutTrailingSlash()
    {
        Assert.Equal("tools/bin", ParseValid(("WorkingDirectory", "./tools/bin/")).WorkingDirectory);
        Assert.Equal("", ParseValid(("WorkingDirectory", ".")).WorkingDirectory);
    }

    [Fact]
    public void AnInputOutsideTheProjectStaysRelativeToIt()
    {
        var step = ParseValid(("Inputs", "../shared/./x.csv;" + _project.Combine("../shared/data/")));

        Assert.Equal(["../shared/x.csv", "../shared/data/"], step.Inputs);
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("train/1")]
    [InlineData("ünï")]
    [InlineData("a;b")]
    public void AnInvalidStepNameIsMLP1001(string name)
    {
        var diagnostic = ParseInvalid(Raw.Step(name, "run"));

        Assert.Equal(ErrorCodes.InvalidStepName, diagnostic.Code);
        Assert.Equal(name, diagnostic.Step);
        Assert.Contains($"'{name}'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("load_data")]
    [InlineData("v1.2-final")]
    [InlineData("A")]
    public void ValidStepNamesAreAccepted(string name)
    {
        var (step, diagnostics) = ParseOne(Raw.Step(name, "run"));

        Assert.Empty(diagnostics);
        Assert.Equal(name, step!.Name);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void AMissingCommandIsMLP1003(string? command)
    {
        var raw = command is null ? Raw.Step("train") : Raw.Step("train", ("Command", command));

        var diagnostic = ParseInvalid(raw);

        Assert.Equal(ErrorCodes.MissingCommand, diagnostic.Code);
        Assert.Equal("train", diagnostic.Step);
        Assert.Contains("Command", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../out.csv")]
    [InlineData("../")]
    [InlineData("/definitely/elsewhere/out.csv")]
    [InlineData(".")]
    [InlineData("./")]
    [InlineData("sub/../..")]
    public void AnOutputOutsideTheProjectIsMLP1008(string output)
    {
        var diagnostic = ParseInvalid(Raw.Step("train", "run", ("Outputs", output)));

        Assert.Equal(ErrorCodes.OutputOutsideProject, diagnostic.Code);
        Assert.Equal("train", diagnostic.Step);
        Assert.Contains($"'{output}'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("model/*.bin", "Output 'model/*.bin' of step 'train' is a wildcard; declare the directory ('model/') or the files.")]
    [InlineData("model/**/weights.bin", "Output 'model/**/weights.bin' of step 'train' is a wildcard; declare the directory ('model/') or the files.")]
    [InlineData("out/run?/", "Output 'out/run?/' of step 'train' is a wildcard; declare the directory ('out/') or the files.")]
    [InlineData("*.bin", "Output '*.bin' of step 'train' is a wildcard; declare the files, or write them into a directory and declare that.")]
    public void AWildcardOutputIsMLP1018(string output, string message)
    {
        var diagnostic = ParseInvalid(Raw.Step("train", "run", ("Outputs", "model.txt;" + output)));

        Assert.Equal(ErrorCodes.WildcardOutput, diagnostic.Code);
        Assert.Equal("train", diagnostic.Step);
        Assert.Equal(message, diagnostic.Message);
    }

    [Theory]
    [InlineData("SEED OTHER")]
    [InlineData("SE*")]
    [InlineData("A=B")]
    [InlineData("SEED;SE?D")]
    [InlineData("TAB\tNAME")]
    public void AnEnvironmentDependencyNoVariableCanHaveIsMLP1025(string names)
    {
        var diagnostic = ParseInvalid(Raw.Step("train", "run", ("EnvironmentDependencies", names)));

        Assert.Equal(ErrorCodes.InvalidEnvironmentDependency, diagnostic.Code);
        Assert.Equal("train", diagnostic.Step);
        Assert.Contains("'train'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnvironmentDependenciesSplitOnCommasAndSemicolons() =>
        Assert.Equal(["SEED", "OTHER", "ProgramFiles(x86)"], ParseValid(("EnvironmentDependencies", "SEED,OTHER; ProgramFiles(x86)")).EnvironmentDependencies);

    [Theory]
    [InlineData("HTTP_PROXY,NPM_*", new[] { "HTTP_PROXY", "NPM_*" })]
    [InlineData(" a ; ;A,,a; ", new[] { "a", "A" })]
    [InlineData(";,", new string[0])]
    [InlineData(null, new string[0])]
    public void NamesSplitOnBothSeparatorsKeepCaseAndDropEmptiesAndRepeats(string? text, string[] expected) =>
        // PipelinePassThroughEnvironment and EnvironmentDependencies: variable names, so case is kept.
        Assert.Equal(expected, StepParser.SplitNames(text));

    [Fact]
    public void EnvironmentDependenciesKeepNamesThatDifferOnlyInCase() =>
        // On Unix seed and SEED are two variables: folding them, as step names are folded, left SEED out of the key.
        Assert.Equal(["seed", "SEED", "OTHER"], ParseValid(("EnvironmentDependencies", " seed;SEED,,OTHER;seed; ")).EnvironmentDependencies);

    [Theory]
    [InlineData("python,dotnet")]
    [InlineData(" python ; dotnet ;")]
    [InlineData("python;;dotnet,PYTHON")]
    public void ToolsSplitOnCommasAndSemicolonsLikeStepNames(string tools) =>
        Assert.Equal(["python", "dotnet"], ParseValid(("Tools", tools)).Tools);

    [Theory]
    [InlineData("Verbose,LogLevel", new[] { "Verbose", "LogLevel" })]
    [InlineData("Verbose, LogLevel;logs/", new[] { "Verbose", "LogLevel", "logs/" })]
    [InlineData("Verbose;;Verbose;", new[] { "Verbose" })]
    // A part that is no parameter name: the entry is a path, which may hold a comma, and stays whole.
    [InlineData("Verbose,notes.txt", new[] { "Verbose,notes.txt" })]
    [InlineData("a,b.csv", new[] { "a,b.csv" })]
    public void IgnoredInputsSplitParameterNamesOnCommasButNotPaths(string ignored, string[] expected) =>
        Assert.Equal(expected, ParseValid(("Parameters", "Verbose=1;LogLevel=2"), ("Inputs", "logs/;a,b.csv;Verbose,notes.txt"), ("IgnoredInputs", ignored)).IgnoredInputs);

    [Theory]
    [InlineData("v 1")]
    [InlineData("v1.0")]
    [InlineData("v1;v2")]
    [InlineData("ü")]
    public void ABadCacheVersionIsMLP1009(string version)
    {
        var diagnostic = ParseInvalid(Raw.Step("train", "run", ("CacheVersion", version)));

        Assert.Equal(ErrorCodes.InvalidCacheVersion, diagnostic.Code);
        Assert.Equal("train", diagnostic.Step);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("abc")]
    [InlineData("NaN")]
    [InlineData("1e400")]
    [InlineData("-1.00:00:00")]
    [InlineData("00:00:00")]
    [InlineData("1 day")]
    public void ABadExpiresAfterIsMLP1010(string text)
    {
        var diagnostic = ParseInvalid(Raw.Step("train", "run", ("ExpiresAfter", text)));

        Assert.Equal(ErrorCodes.InvalidExpiresAfter, diagnostic.Code);
        Assert.Equal("train", diagnostic.Step);
        Assert.Contains($"'{text}'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("3600", 3600)]
    [InlineData("0.5", 0.5)]
    [InlineData("1.00:00:00", 86400)]
    [InlineData("00:30:00", 1800)]
    [InlineData("2.12:00:00", 216000)]
    public void ExpiresAfterTakesSecondsOrATimeSpan(string text, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), ParseValid(("ExpiresAfter", text)).ExpiresAfter);
    }

    [Theory]
    [InlineData("Parameters", "Gamma")]
    [InlineData("Parameters", "=0.1")]
    [InlineData("Parameters", "1abc=2")]
    [InlineData("Parameters", "a-b=2")]
    public void ABadNameValuePairIsMLP1011(string key, string pair)
    {
        var diagnostic = ParseInvalid(Raw.Step("train", "run", (key, "Ok=1;" + pair)));

        Assert.Equal(ErrorCodes.InvalidNameValuePair, diagnostic.Code);
        Assert.Equal("train", diagnostic.Step);
        Assert.Contains(key, diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains($"'{pair}'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("BAD NAME=tok-s3cr3t", "'BAD NAME=…'")]
    [InlineData("1TOKEN=tok-s3cr3t", "'1TOKEN=…'")]
    [InlineData("tok-s3cr3t", "without '='")]
    public void ABadEnvironmentPairIsMLP1011WithoutItsValue(string pair, string shown)
    {
        var diagnostic = ParseInvalid(Raw.Step("train", "run", ("Environment", "Ok=1;" + pair)));

        Assert.Equal(ErrorCodes.InvalidNameValuePair, diagnostic.Code);
        Assert.Equal("train", diagnostic.Step);
        Assert.Contains($"Environment entry {shown}", diagnostic.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Environment", "TOKEN=s3cr3t;TOKEN=other")]
    [InlineData("Parameters", "Gamma=0.1;Gamma=0.2")]
    public void ANameGivenTwiceIsMLP1011WithoutItsValues(string key, string pairs)
    {
        var diagnostic = ParseInvalid(Raw.Step("train", "run", (key, pairs)));

        Assert.Equal(ErrorCodes.InvalidNameValuePair, diagnostic.Code);
        Assert.Equal("train", diagnostic.Step);
        Assert.Contains("twice", diagnostic.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("EnableCache")]
    [InlineData("IncludeStepCode")]
    [InlineData("IncludeStepParameters")]
    [InlineData("IncludeArtifactValues")]
    [InlineData("IncludeArtifactIds")]
    public void ABadBooleanIsMLP1012(string key)
    {
        var diagnostic = ParseInvalid(Raw.Step("train", "run", (key, "yes")));

        Assert.Equal(ErrorCodes.InvalidBoolean, diagnostic.Code);
        Assert.Equal("train", diagnostic.Step);
        Assert.StartsWith($"{key} 'yes'", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ContentHash")]
    [InlineData("Code Hash")]
    [InlineData("2")]
    [InlineData("1")]
    [InlineData("CodeHash,InputHash")]
    public void ABadCacheStrategyIsMLP1013(string strategy)
    {
        var diagnostic = ParseInvalid(Raw.Step("train", "run", ("CacheStrategy", strategy)));

        Assert.Equal(ErrorCodes.InvalidCacheStrategy, diagnostic.Code);
        Assert.Equal("train", diagnostic.Step);
    }

    [Fact]
    public void EveryMistakeOfEveryStepIsReportedAtOnce()
    {
        var diagnostics = new List<PipelineDiagnostic>();

        var steps = StepParser.Parse(
            [
                Raw.Step("bad name", ("CacheVersion", "1.0")),
                Raw.Step("ok", "run"),
                Raw.Step("late", "run", ("ExpiresAfter", "never"), ("EnableCache", "maybe")),
            ],
            _project.Path,
            diagnostics);

        Assert.Equal("ok", Assert.Single(steps).Name);
        Assert.Equal(
            [
                (ErrorCodes.InvalidStepName, "bad name"),
                (ErrorCodes.MissingCommand, "bad name"),
                (ErrorCodes.InvalidCacheVersion, "bad name"),
                (ErrorCodes.InvalidExpiresAfter, "late"),
                (ErrorCodes.InvalidBoolean, "late"),
            ],
            diagnostics.Select(d => (d.Code, d.Step)));
    }

    [Fact]
    public void ANulInAnyMetadataIsMLP1020NamingTheMetadataAndTheStep()
    {
        var diagnostics = new List<PipelineDiagnostic>();

        var steps = StepParser.Parse([Raw.Step("train", "run", ("Inputs", "data\0.csv"), ("Environment", "A=1\0"))], _project.Path, diagnostics);

        Assert.Empty(steps);
        Assert.Equal(
            [
                (ErrorCodes.NulCharacter, "Environment of step 'train' holds a NUL character (%00), which no command, environment variable or file path can carry. Remove it."),
                (ErrorCodes.NulCharacter, "Inputs of step 'train' holds a NUL character (%00), which no command, environment variable or file path can carry. Remove it."),
            ],
            diagnostics.Select(d => (d.Code, d.Message)));
    }

    [Fact]
    public void AStepNameWithControlCharactersIsShownEscaped()
    {
        var diagnostics = new List<PipelineDiagnostic>();

        StepParser.Parse([Raw.Step("a\0b\u001b", "run")], _project.Path, diagnostics);

        Assert.Equal("Step name 'a\\u0000b\\u001b' is not valid: use letters, digits, '.', '-' and '_' only.", Assert.Single(diagnostics).Message);
    }

    [Fact]
    public void SplitListTrimsAndDropsEmptyEntries()
    {
        Assert.Equal(["a", "b c", "d"], StepParser.SplitList(" a ;; b c ;d;"));
        Assert.Empty(StepParser.SplitList(""));
    }
}
