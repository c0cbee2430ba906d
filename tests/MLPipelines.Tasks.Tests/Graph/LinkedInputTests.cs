using System.Runtime.Versioning;
using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Graph;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Graph;

/// <summary>
/// A read path through a symbolic link is judged where the link leads: an input through <c>link -&gt; data</c> into
/// another step's output <c>data/</c> depends on that step, and an output overlapping its own linked input is MLP1007.
/// </summary>
[UnsupportedOSPlatform("windows")] // Links need privileges there; the graph judges paths by text on Windows.
public sealed class LinkedInputTests : IDisposable
{
    private readonly TempDirectory _project = new();

    public LinkedInputTests()
    {
        _project.Subdirectory("data/sub");
        Directory.CreateSymbolicLink(_project.Combine("link"), "data");
        File.WriteAllText(_project.Combine("data/sub/x.txt"), "1\n");
        File.CreateSymbolicLink(_project.Combine("x-link.txt"), "data/sub/x.txt");
    }

    public void Dispose() => _project.Dispose();

    private static StepDefinition Step(string name, string inputs = "", string outputs = "", string code = "") => new()
    {
        Name = name,
        Command = "run",
        Inputs = StepParser.SplitList(inputs),
        Outputs = StepParser.SplitList(outputs),
        Code = StepParser.SplitList(code),
    };

    private PipelineGraph Valid(params StepDefinition[] steps)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var graph = PipelineGraph.Build(steps, diagnostics, null, _project.Path);
        Assert.Empty(diagnostics);
        return graph!;
    }

    [Theory]
    [InlineData("link/sub/x.txt")] // The tester's case: a folder link on the way.
    [InlineData("link/**/*.txt")] // A glob whose fixed folders pass through the link.
    [InlineData("x-link.txt")] // The input is itself a link to a file in the output.
    [InlineData("link/")] // The linked folder as a whole.
    public void AnInputThroughALinkIntoAnOutputDependsOnItsStep(string input)
    {
        var graph = Valid(Step("g6", inputs: input, outputs: "g6.txt"), Step("prep", outputs: "data/"));

        Assert.Equal(["prep"], graph.UpstreamOf("g6"));
        Assert.Equal(["prep", "g6"], graph.Steps.Select(s => s.Name));
    }

    [Fact]
    public void CodeThroughALinkIntoAnOutputDependsOnItsStep() =>
        Assert.Equal(["prep"], Valid(Step("g6", code: "link/sub/x.txt", outputs: "g6.txt"), Step("prep", outputs: "data/sub/")).UpstreamOf("g6"));

    [Fact]
    public void AnOutputOverlappingItsOwnInputThroughALinkIsMLP1007()
    {
        var diagnostics = new List<PipelineDiagnostic>();

        Assert.Null(PipelineGraph.Build([Step("selfish", inputs: "link/sub/x.txt", outputs: "data/")], diagnostics, null, _project.Path));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(ErrorCodes.OutputOverlapsInput, diagnostic.Code);
        Assert.Equal("selfish", diagnostic.Step);
    }

    [Fact]
    public void AnInputThroughALinkElsewhereAddsNoEdge() =>
        Assert.Empty(Valid(Step("g6", inputs: "link/sub/x.txt", outputs: "g6.txt"), Step("prep", outputs: "other/")).UpstreamOf("g6"));
}
