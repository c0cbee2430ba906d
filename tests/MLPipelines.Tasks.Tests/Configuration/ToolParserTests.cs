using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Configuration;

/// <summary><c>PipelineTool</c> items and a step's <c>Tools</c> and <c>Platform</c> metadata: MLP1022, MLP1023, MLP1012.</summary>
public sealed class ToolParserTests : IDisposable
{
    private readonly TempDirectory _project = new();

    public void Dispose() => _project.Dispose();

    private static (IReadOnlyList<ToolDefinition> Tools, List<PipelineDiagnostic> Diagnostics) ParseTools(params (string Name, string VersionCommand)[] declared)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var tools = ToolParser.Parse(declared.Select(d => KeyValuePair.Create(d.Name, d.VersionCommand)), diagnostics);
        return (tools, diagnostics);
    }

    private (StepDefinition? Step, List<PipelineDiagnostic> Diagnostics) ParseStep(params (string Key, string Value)[] metadata)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var steps = StepParser.Parse([Raw.Step("train", "run", metadata)], _project.Path, diagnostics);
        return (steps.SingleOrDefault(), diagnostics);
    }

    [Fact]
    public void ValidToolsKeepTheirOrderNameAndTrimmedCommand()
    {
        var (tools, diagnostics) = ParseTools(("python", " python3 --version "), ("dotnet", "dotnet --version"));

        Assert.Empty(diagnostics);
        Assert.Equal([new ToolDefinition("python", "python3 --version"), new ToolDefinition("dotnet", "dotnet --version")], tools);
    }

    [Theory]
    [InlineData("python", "", "PipelineTool 'python' has no VersionCommand")]
    [InlineData("python", "   ", "PipelineTool 'python' has no VersionCommand")]
    [InlineData("py thon", "python3 --version", "PipelineTool 'py thon' has no valid name")]
    [InlineData("none", "echo 1", "PipelineTool 'none' has no valid name")]
    [InlineData("python", "python3\0 --version", "The VersionCommand of PipelineTool 'python' holds a NUL character")]
    public void AnInvalidToolIsMLP1022NamingIt(string name, string command, string message)
    {
        var (tools, diagnostics) = ParseTools((name, command));

        Assert.Empty(tools);
        var error = Assert.Single(diagnostics);
        Assert.Equal(ErrorCodes.InvalidPipelineTool, error.Code);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AToolDeclaredTwiceInAnyCaseIsMLP1022()
    {
        var (tools, diagnostics) = ParseTools(("python", "python3 --version"), ("Python", "python --version"));

        Assert.Equal(["python"], tools.Select(t => t.Name));
        var error = Assert.Single(diagnostics);
        Assert.Equal(ErrorCodes.InvalidPipelineTool, error.Code);
        Assert.Equal("PipelineTool 'Python' is declared twice. Declare each tool once.", error.Message);
    }

    [Fact]
    public void EmptyToolsMeansEveryToolAndNoneMeansNoTool()
    {
        Assert.Null(ParseStep().Step!.Tools);
        Assert.Null(ParseStep(("Tools", " ; ")).Step!.Tools);
        Assert.Equal([], ParseStep(("Tools", "None")).Step!.Tools!);
        Assert.Equal(["python", "dotnet"], ParseStep(("Tools", "python; dotnet")).Step!.Tools!);
    }

    [Theory]
    [InlineData("none;python", "combines 'none' with tool names")]
    [InlineData("py thon", "names 'py thon', which is not a tool name")]
    public void AMalformedToolsIsMLP1023NamingTheStep(string tools, string message)
    {
        var (step, diagnostics) = ParseStep(("Tools", tools));

        Assert.Null(step);
        var error = Assert.Single(diagnostics);
        Assert.Equal((ErrorCodes.UnknownStepTool, "train"), (error.Code, error.Step));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AToolThatIsNotDeclaredIsMLP1023NamingTheStepAndTheTool()
    {
        var (tools, _) = ParseTools(("python", "python3 --version"));
        var (step, _) = ParseStep(("Tools", "PYTHON;pyton"));
        var diagnostics = new List<PipelineDiagnostic>();

        ToolParser.CheckStepTools([step!], tools, diagnostics);

        var error = Assert.Single(diagnostics);
        Assert.Equal((ErrorCodes.UnknownStepTool, "train"), (error.Code, error.Step));
        Assert.Equal("Tools of step 'train' names 'pyton', which is not a PipelineTool (declared: python). Fix the name, or declare <PipelineTool Include=\"pyton\" VersionCommand=\"...\" />.", error.Message);
    }

    [Theory]
    [InlineData("python", "")]
    [InlineData("python", "echo %00")]
    public void AStepNamingADeclaredButInvalidToolGetsOnlyTheToolsMLP1022(string name, string versionCommand)
    {
        var declared = new[] { KeyValuePair.Create(name, versionCommand.Replace("%00", "\0", StringComparison.Ordinal)) };
        var diagnostics = new List<PipelineDiagnostic>();
        var tools = ToolParser.Parse(declared, diagnostics);
        var (step, _) = ParseStep(("Tools", "Python;pyton"));

        ToolParser.CheckStepTools([step!], tools, diagnostics, declared.Select(d => d.Key));

        // The tool's own error, and the real typo; not "Tools of step 'train' names 'Python' ... (none is declared)".
        Assert.Equal(
            [(ErrorCodes.InvalidPipelineTool, null), (ErrorCodes.UnknownStepTool, "train")],
            diagnostics.Select(d => (d.Code, d.Step)));
        Assert.Contains("'pyton'", diagnostics[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PlatformIsABooleanTheStepMayLeaveUnsaid()
    {
        Assert.Null(ParseStep().Step!.Platform);
        Assert.True(ParseStep(("Platform", "true")).Step!.Platform);
        Assert.False(ParseStep(("Platform", "False")).Step!.Platform);

        var (step, diagnostics) = ParseStep(("Platform", "linux"));
        Assert.Null(step);
        Assert.Equal(ErrorCodes.InvalidBoolean, Assert.Single(diagnostics).Code);
    }
}
