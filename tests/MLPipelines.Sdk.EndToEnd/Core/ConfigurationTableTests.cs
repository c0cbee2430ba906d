using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// SPEC "Failure and bad input", as a table: every kind of bad configuration a user can write is an MLP1xxx error
/// naming the step (or the property) and the project file, before any step runs, with no stack trace. Each row is a
/// real <c>RunPipeline</c> build of its own project directory; every step's command would write a <c>marker-*</c>
/// file, and none may exist afterwards. The rows share one packages folder, so the package is restored once.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class ConfigurationTableTests(SdkPackage package, ITestOutputHelper output)
{
    /// <summary>A row: the project's body (steps, properties), the code it must give, and what the error must name.</summary>
    private sealed record Row(string Body, string Code, string[] Named, Action<Workspace>? Setup = null);

    private const string Marker = "<Step Include=\"marker\" Command=\"echo ran > marker-marker.txt\" Outputs=\"marker-marker.txt\" />";

    // One step that writes its own marker, with extra attributes.
    private static string Step(string name, string attributes = "") =>
        $"<Step Include=\"{name}\" Command=\"echo ran > marker-{name}.txt\" {attributes} />";

    private static string Steps(params string[] steps) => "<ItemGroup>" + Marker + string.Concat(steps) + "</ItemGroup>";

    private static string Property(string name, string value) => $"<PropertyGroup><{name}>{value}</{name}></PropertyGroup>" + Steps();

    private static readonly Dictionary<string, Row> Rows = new()
    {
        ["name with invalid characters"] = new(Steps(Step("bad!name")), "MLP1001", ["bad!name"]),
        ["name with non-ASCII letters"] = new(Steps(Step("stép")), "MLP1001", ["stép"]),
        ["name with a NUL"] = new(Steps(Step("a%00b")), "MLP1001", ["a\\u0000b"]),
        ["duplicate name"] = new(Steps(Step("twin", "Outputs=\"one.txt\""), Step("twin", "Outputs=\"two.txt\"")), "MLP1002", ["twin"]),
        ["duplicate name in another case"] = new(Steps(Step("Twin"), Step("twin")), "MLP1002", ["twin"]),
        ["missing Command"] = new(Steps("<Step Include=\"silent\" Outputs=\"marker-silent.txt\" />"), "MLP1003", ["silent"]),
        ["blank Command"] = new(Steps("<Step Include=\"blank\" Command=\"   \" />"), "MLP1003", ["blank"]),
        ["unknown DependsOn"] = new(Steps(Step("orphan", "DependsOn=\"ghost\"")), "MLP1004", ["orphan", "ghost"]),
        ["dependency cycle"] = new(Steps(Step("alpha", "DependsOn=\"beta\""), Step("beta", "DependsOn=\"alpha\"")), "MLP1005", ["alpha", "beta"]),
        ["self-dependency"] = new(Steps(Step("ouroboros", "DependsOn=\"ouroboros\"")), "MLP1005", ["ouroboros"]),
        ["cycle through outputs read as inputs"] = new(
            Steps(Step("left", "Inputs=\"r.txt\" Outputs=\"l.txt\""), Step("right", "Inputs=\"l.txt\" Outputs=\"r.txt\"")), "MLP1005", ["left", "right"]),
        ["two steps, one output"] = new(Steps(Step("first", "Outputs=\"shared.txt\""), Step("second", "Outputs=\"shared.txt\"")), "MLP1006", ["second", "first"]),
        ["output inside another step's output folder"] = new(
            Steps(Step("outer", "Outputs=\"model/\""), Step("inner", "Outputs=\"model/w.bin\"")), "MLP1006", ["inner", "outer"]),
        ["output overlaps own input"] = new(Steps(Step("selfish", "Inputs=\"data/\" Outputs=\"data/out.txt\"")), "MLP1007", ["selfish"]),
        ["output overlaps own code"] = new(Steps(Step("rewriter", "Code=\"tool.sh\" Outputs=\"tool.sh\"")), "MLP1007", ["rewriter"]),
        ["output overlaps own file dependency"] = new(Steps(Step("locker", "FileDependencies=\"cfg/\" Outputs=\"cfg/lock.json\"")), "MLP1007", ["locker"]),
        ["output above the project"] = new(Steps(Step("escape", "Outputs=\"../outside.txt\"")), "MLP1008", ["escape"]),
        ["output with .. that leaves"] = new(Steps(Step("sneaky", "Outputs=\"sub/../../outside.txt\"")), "MLP1008", ["sneaky"]),
        ["absolute output"] = new(Steps(Step("rooted", "Outputs=\"/tmp/mlp-table-rooted.txt\"")), "MLP1008", ["rooted"]),
        ["output is the project directory"] = new(Steps(Step("everything", "Outputs=\".\"")), "MLP1008", ["everything"]),
        ["output through a link out of the project"] = new(
            Steps(Step("linked", "Outputs=\"ext/sub/\"")), "MLP1008", ["linked"],
            w => File.CreateSymbolicLink(w.GetPath("ext"), Path.GetTempPath())),
        ["CacheVersion with a dot"] = new(Steps(Step("versioned", "CacheVersion=\"1.0\"")), "MLP1009", ["versioned"]),
        ["ExpiresAfter not a duration"] = new(Steps(Step("expiring", "ExpiresAfter=\"soon\"")), "MLP1010", ["expiring"]),
        ["ExpiresAfter not positive"] = new(Steps(Step("stale", "ExpiresAfter=\"-5\"")), "MLP1010", ["stale"]),
        ["Parameters without '='"] = new(Steps(Step("tuned", "Parameters=\"Gamma\"")), "MLP1011", ["tuned"]),
        ["Parameters name starting with a digit"] = new(Steps(Step("digits", "Parameters=\"1x=2\"")), "MLP1011", ["digits"]),
        ["Environment without a name"] = new(Steps(Step("envy", "Environment=\"=C.UTF-8\"")), "MLP1011", ["envy"]),
        ["Environment name given twice"] = new(Steps(Step("twice", "Environment=\"A=1;A=2\"")), "MLP1011", ["twice", "'A' twice"]),
        ["output is the project file"] = new(Steps(Step("clobber", "Outputs=\"pipeline.proj\"")), "MLP1021", ["clobber", "pipeline.proj"]),
        ["boolean metadata not true or false"] = new(Steps(Step("unsure", "EnableCache=\"maybe\"")), "MLP1012", ["unsure"]),
        ["bad boolean from an item definition"] = new(
            "<ItemDefinitionGroup><Step><PersistOutputs>sometimes</PersistOutputs></Step></ItemDefinitionGroup>" + Steps(), "MLP1012", ["marker"]),
        ["unknown CacheStrategy"] = new(Steps(Step("strategic", "CacheStrategy=\"Everything\"")), "MLP1013", ["strategic"]),
        ["numeric CacheStrategy"] = new(Steps(Step("numbered", "CacheStrategy=\"1\"")), "MLP1013", ["numbered"]),
        ["PipelineMaxParallelism zero"] = new(Property("PipelineMaxParallelism", "0"), "MLP1014", ["PipelineMaxParallelism"]),
        ["PipelineMaxParallelism too big"] = new(Property("PipelineMaxParallelism", "2147483648"), "MLP1014", ["PipelineMaxParallelism"]),
        ["PipelineCacheMaxSize without a number"] = new(Property("PipelineCacheMaxSize", "lots"), "MLP1014", ["PipelineCacheMaxSize"]),
        ["PipelineCacheMaxSize negative"] = new(Property("PipelineCacheMaxSize", "-5MB"), "MLP1014", ["PipelineCacheMaxSize"]),
        ["PipelineCacheMaxAge negative"] = new(Property("PipelineCacheMaxAge", "-1"), "MLP1014", ["PipelineCacheMaxAge"]),
        ["PipelineLockTimeout not a duration"] = new(Property("PipelineLockTimeout", "forever"), "MLP1014", ["PipelineLockTimeout"]),
        ["EnablePipelineCache not a boolean"] = new(Property("EnablePipelineCache", "yes"), "MLP1014", ["EnablePipelineCache"]),
        ["PipelineCacheDir with a NUL"] = new(Property("PipelineCacheDir", "cache%00dir"), "MLP1014", ["PipelineCacheDir"]),
        ["PipelineSteps names an unknown step"] = new(Property("PipelineSteps", "ghost"), "MLP1015", ["ghost"]),
        ["PipelineForce names an unknown step"] = new(Property("PipelineForce", "marker;ghost"), "MLP1015", ["ghost"]),
        ["PipelineResumeFrom names an unknown step"] = new(Property("PipelineResumeFrom", "ghost"), "MLP1016", ["ghost"]),
        ["PipelineResumeFrom with nothing after the run id"] = new(Property("PipelineResumeFrom", "20261126-025448-88e0d2:"), "MLP1016", ["PipelineResumeFrom"]),
        ["PipelineResumeFrom names an unknown run"] = new(Property("PipelineResumeFrom", "20261126-025448-88e0d2:marker"), "MLP1017", ["20261126-025448-88e0d2"]),
        ["wildcard output"] = new(Steps(Step("globbed", "Outputs=\"model/*.bin\"")), "MLP1018", ["globbed"]),
        ["output inside the store"] = new(Steps(Step("hoarder", "Outputs=\".mlpipelines/x.txt\"")), "MLP1019", ["hoarder"]),
        ["store is an output folder"] = new(
            "<PropertyGroup><PipelineCacheDir>$(MSBuildProjectDirectory)/out/cache</PipelineCacheDir></PropertyGroup>" + Steps(Step("nested", "Outputs=\"out/cache/\"")),
            "MLP1019", ["nested"]),
        ["NUL in an input path"] = new(Steps(Step("nul_input", "Inputs=\"data%00.csv\"")), "MLP1020", ["nul_input", "Inputs"]),
        ["NUL in an output path"] = new(Steps(Step("nul_output", "Outputs=\"out%00.txt\"")), "MLP1020", ["nul_output", "Outputs"]),
        ["NUL in the command"] = new(
            Steps("<Step Include=\"nul_command\" Command=\"echo ran > marker-nul_command.txt%00; echo more\" />"), "MLP1020", ["nul_command", "Command"]),
        ["NUL in WorkingDirectory"] = new(Steps(Step("nul_folder", "WorkingDirectory=\"work%00\"")), "MLP1020", ["nul_folder", "WorkingDirectory"]),
        ["PipelineTool without VersionCommand"] = new("<ItemGroup><PipelineTool Include=\"python\" /></ItemGroup>" + Steps(), "MLP1022", ["python", "VersionCommand"]),
        ["PipelineTool declared twice"] = new(
            "<ItemGroup><PipelineTool Include=\"python\" VersionCommand=\"echo 1\" /><PipelineTool Include=\"Python\" VersionCommand=\"echo 2\" /></ItemGroup>" + Steps(),
            "MLP1022", ["Python", "twice"]),
        ["Tools names an undeclared tool"] = new(
            "<ItemGroup><PipelineTool Include=\"python\" VersionCommand=\"echo 1\" /></ItemGroup>" + Steps(Step("trainer", "Tools=\"pyton\"")), "MLP1023", ["trainer", "pyton"]),
        ["PipelineKeyPlatform not a boolean"] = new(Property("PipelineKeyPlatform", "linux"), "MLP1014", ["PipelineKeyPlatform"]),
        ["Metrics not among the outputs"] = new(Steps(Step("scorer", "Outputs=\"model.bin\" Metrics=\"scores.json\"")), "MLP1040", ["scorer", "scores.json"]),
        ["Metrics is an output directory"] = new(Steps(Step("folder", "Outputs=\"eval/\" Metrics=\"eval/\"")), "MLP1040", ["folder", "eval/"]),
        ["IgnoredInputs names a parameter the step does not have"] = new(
            Steps(Step("tuned", "Parameters=\"Verbose=1\" IgnoredInputs=\"Verbsoe\"")), "MLP1080", ["tuned", "Verbsoe", "Verbose"]),
        ["IgnoredInputs names a path no input can hold"] = new(
            Steps(Step("reader", "Inputs=\"data/\" IgnoredInputs=\"dat/\"")), "MLP1080", ["reader", "dat/", "data/"]),
        ["PipelinePassThroughEnvironment names no variable"] = new(
            Property("PipelinePassThroughEnvironment", "HTTP PROXY"), "MLP1014", ["PipelinePassThroughEnvironment", "HTTP PROXY"]),
    };

    public static TheoryData<string> Kinds => new(Rows.Keys);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void BadConfigurationIsAConfigurationErrorBeforeAnyStepRuns(string kind)
    {
        Row row = Rows[kind];
        Workspace workspace = Shared(package).Sibling("rows/" + string.Concat(kind.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')), output);
        row.Setup?.Invoke(workspace);
        PipelineProject.Create(package.Version).Xml(row.Body).Save(workspace);
        output.WriteLine(File.ReadAllText(workspace.GetPath(PipelineRuns.Project)));

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        Assert.True(result.HasError(row.Code), $"Expected error {row.Code}.\n{result}");
        Assert.Contains(result.Errors, error =>
            error.Code == row.Code
            && error.File == workspace.GetPath(PipelineRuns.Project)
            && row.Named.All(name => error.Message.Contains(name, StringComparison.Ordinal)));
        Assert.All(result.Errors, error => Assert.StartsWith("MLP1", error.Code, StringComparison.Ordinal));
        // Links are not followed: the link row's ext/ leads to the temp folder, which holds anything.
        Assert.Empty(Directory.EnumerateFiles(workspace.ProjectDirectory, "marker-*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }));
        Assert.Empty(result.LinesContaining("has started."));
        result.EnsureNoStackTrace();
    }

    [Fact]
    public void AStepNamingAToolWithoutVersionCommandGetsOnlyTheToolsMLP1022()
    {
        Workspace workspace = Shared(package).Sibling("rows/step-naming-invalid-tool", output);
        PipelineProject.Create(package.Version)
            .Xml("<ItemGroup><PipelineTool Include=\"python\" VersionCommand=\"\" /></ItemGroup>" + Steps(Step("trainer", "Tools=\"python\"")))
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors);
        Assert.Equal("MLP1022", error.Code);
        Assert.Contains("python", error.Message, StringComparison.Ordinal);
        Assert.Empty(result.LinesContaining("has started."));
    }

    [Fact]
    public void TheTableHoldsAtLeast25DistinctKindsAndEveryConfigurationCode()
    {
        Assert.True(Rows.Count >= 25);
        var codes = Rows.Values.Select(r => r.Code).ToHashSet();
        Assert.All(Enumerable.Range(1, 23).Select(n => $"MLP10{n:00}"), code => Assert.Contains(code, codes));
    }

    // One workspace root for every row: its packages folder holds the SDK once. Deleted with the run's folder.
    private static Workspace? shared;
    private static readonly Lock SharedLock = new();

    private static Workspace Shared(SdkPackage package)
    {
        lock (SharedLock)
        {
            return shared ??= Workspace.Create(package, null, "ConfigurationTable");
        }
    }
}
