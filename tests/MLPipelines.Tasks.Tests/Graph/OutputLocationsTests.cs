using System.Runtime.Versioning;
using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Graph;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Graph;

/// <summary>Outputs judged where they really are, links followed: out of the project is MLP1008, meeting is MLP1006.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class OutputLocationsTests : IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly string _project;

    public OutputLocationsTests()
    {
        _project = _root.Subdirectory("project");
    }

    public void Dispose() => _root.Dispose();

    private static StepDefinition Step(string name, params string[] outputs) => new() { Name = name, Command = "true", Outputs = outputs };

    private List<PipelineDiagnostic> Check(params StepDefinition[] steps)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        OutputLocations.Check(steps, _project, diagnostics);
        return diagnostics;
    }

    [Fact]
    public void AnOutputBelowALinkOutOfTheProjectIsMLP1008()
    {
        File.CreateSymbolicLink(Path.Combine(_project, "ext"), _root.Subdirectory("elsewhere"));

        var diagnostic = Assert.Single(Check(Step("b", "ext/sub/")));

        Assert.Equal(ErrorCodes.OutputOutsideProject, diagnostic.Code);
        Assert.Equal("b", diagnostic.Step);
    }

    [Fact]
    public void OutputsOfTwoStepsThatMeetThroughALinkAreMLP1006()
    {
        Directory.CreateDirectory(Path.Combine(_project, "out"));
        File.CreateSymbolicLink(Path.Combine(_project, "al"), "out");

        var diagnostic = Assert.Single(Check(Step("a", "out/"), Step("b", "al/b.txt")));

        Assert.Equal(ErrorCodes.DuplicateOutput, diagnostic.Code);
        Assert.Equal("b", diagnostic.Step);
    }

    [Fact]
    public void ALinkToAFolderInsideTheProjectIsAllowedAndOutputsThatDoNotExistYetAreFine()
    {
        Directory.CreateDirectory(Path.Combine(_project, "real"));
        File.CreateSymbolicLink(Path.Combine(_project, "lnk"), "real");

        Assert.Empty(Check(Step("a", "lnk/model/"), Step("b", "other/x.txt", "real/y.txt")));
    }

    [Fact]
    public void AnOutputThatIsItselfALinkIsTheStepsToReplaceNotAnError()
    {
        File.CreateSymbolicLink(Path.Combine(_project, "model"), _root.Subdirectory("elsewhere"));

        Assert.Empty(Check(Step("a", "model/")));
    }

    [Fact]
    public void AnOutputThatIsOrHoldsTheProjectFileIsMLP1021AndNamesIt()
    {
        var projectFile = Path.Combine(_project, "pipeline.proj");
        File.WriteAllText(projectFile, "<Project />");
        Directory.CreateDirectory(Path.Combine(_project, "data"));
        File.CreateSymbolicLink(Path.Combine(_project, "data", "up"), "..");
        var diagnostics = new List<PipelineDiagnostic>();

        OutputLocations.Check([Step("a", "pipeline.proj"), Step("b", "data/up/pipeline.proj"), Step("c", "data/out.txt")], _project, diagnostics, [projectFile]);

        Assert.Equal(["a", "b"], diagnostics.Select(d => d.Step));
        Assert.All(diagnostics, d => Assert.Equal(ErrorCodes.OutputHoldsProjectFile, d.Code));
        Assert.All(diagnostics, d => Assert.Contains("pipeline.proj", d.Message, StringComparison.Ordinal));
    }
}
