using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Configuration;

/// <summary>Issue 11 items 3 and 4: one parser for lists of step names (`;` or `,`), and names that must be known.</summary>
public sealed class StepSelectionTests : IDisposable
{
    private readonly TempDirectory _project = new();
    private readonly List<PipelineDiagnostic> _diagnostics = [];

    public void Dispose() => _project.Dispose();

    [Theory]
    [InlineData("train,evaluate")]
    [InlineData("train;evaluate")]
    [InlineData(" train , evaluate ")]
    [InlineData("train;;evaluate,")]
    [InlineData(",train;,evaluate")]
    public void StepListsTakeCommasOrSemicolons(string text) =>
        Assert.Equal(["train", "evaluate"], StepParser.SplitStepNames(text));

    [Theory]
    [InlineData("a,,A", new[] { "a" })]
    [InlineData("train;Train, TRAIN;evaluate", new[] { "train", "evaluate" })]
    [InlineData("Evaluate,train;evaluate,*,*", new[] { "Evaluate", "train", "*" })]
    public void AStepNamedTwiceInAnyCaseIsListedOnceAsFirstSpelled(string text, string[] expected) =>
        Assert.Equal(expected, StepParser.SplitStepNames(text));

    [Fact]
    public void DependsOnNamingAStepTwiceKeepsItOnce()
    {
        var steps = StepParser.Parse([Raw.Step("report", "run", ("DependsOn", "train;Train,evaluate"))], _project.Path, _diagnostics);
        Assert.Empty(_diagnostics);
        Assert.Equal(["train", "evaluate"], Assert.Single(steps).DependsOn);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ,; ")]
    public void AnEmptyStepListIsEmpty(string? text) => Assert.Empty(StepParser.SplitStepNames(text));

    [Fact]
    public void DependsOnTakesCommasToo()
    {
        var steps = StepParser.Parse([Raw.Step("report", "run", ("DependsOn", "train, evaluate;load"))], _project.Path, _diagnostics);
        Assert.Empty(_diagnostics);
        Assert.Equal(["train", "evaluate", "load"], Assert.Single(steps).DependsOn);
    }

    [Fact]
    public void OtherListsKeepCommasInTheirEntries()
    {
        // A file name may hold a comma; only lists of step names split on it.
        var steps = StepParser.Parse([Raw.Step("s", "run", ("Inputs", "data/a,b.csv"), ("Parameters", "Grid=1,2,3"))], _project.Path, _diagnostics);
        Assert.Empty(_diagnostics);
        Assert.Equal(["data/a,b.csv"], Assert.Single(steps).Inputs);
        Assert.Equal("1,2,3", Assert.Single(steps[0].Parameters).Value);
    }

    [Fact]
    public void AnUnknownSelectedOrForcedStepIsMLP1015ListingTheSteps()
    {
        StepSelection.CheckRun(["train", "trian"], ["*", "EVALUATE", "evalute"], ["load", "train", "evaluate"], "iris", _diagnostics);

        Assert.Equal(["trian", "evalute"], _diagnostics.Select(d => d.Step));
        Assert.All(_diagnostics, d => Assert.Equal(ErrorCodes.UnknownSelectedStep, d.Code));
        // Each names the property it came from, so the user knows which -p: to fix.
        Assert.Equal("'trian' (from PipelineSteps) is not a step of pipeline iris. Its steps: load, train, evaluate.", _diagnostics[0].Message);
        Assert.Equal("'evalute' (from PipelineForce) is not a step of pipeline iris. Its steps: load, train, evaluate.", _diagnostics[1].Message);
    }

    [Fact]
    public void ClearAcceptsCurrentStepsAndRemovedStepsWithEntries()
    {
        StepSelection.CheckClear(["TRAIN", "old_step"], ["load", "train"], ["load", "old_step"], "iris", _diagnostics);
        Assert.Empty(_diagnostics);
    }

    [Fact]
    public void ClearRefusesANameThatIsNeitherListingBothKinds()
    {
        StepSelection.CheckClear(["train", "trian", "trian"], ["load", "train"], ["load", "old_step"], "iris", _diagnostics);

        var error = Assert.Single(_diagnostics);
        Assert.Equal(ErrorCodes.UnknownSelectedStep, error.Code);
        Assert.Equal("trian", error.Step);
        Assert.Equal(
            "'trian' (from PipelineSteps) is neither a step of pipeline iris nor a step with entries in its cache, so nothing was cleared. " +
            "Its steps: load, train. Steps no longer in the project that still have entries: old_step.",
            error.Message);
    }
}
