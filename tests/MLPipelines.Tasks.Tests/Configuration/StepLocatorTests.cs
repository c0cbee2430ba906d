using MLPipelines.Engine.Configuration;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Configuration;

/// <summary>Issue 11 item 14: the line and column of the <c>&lt;Step&gt;</c> element that declares a step.</summary>
public sealed class StepLocatorTests : IDisposable
{
    private readonly TempDirectory _project = new();
    private readonly StepLocator _locator = new();

    public void Dispose() => _project.Dispose();

    private const string Project = """
        <Project xmlns="http://schemas.microsoft.com/developer/msbuild/2003">
          <ItemGroup>
            <!-- <Step Include="commented" /> -->
            <Step Include="load" Command="x" />
              <Step Command="y"
                    Include=" train ; evaluate " />
            <Step Include="$(Name)" Command="z" />
            <Step Include="a%2Db" Command="z" />
            <Step Update="load" Command="w" />
          </ItemGroup>
        </Project>
        """;

    [Theory]
    [InlineData("load", 4, 5)]
    [InlineData("LOAD", 4, 5)]
    [InlineData("train", 5, 7)]
    [InlineData("evaluate", 5, 7)]
    [InlineData("a-b", 8, 5)]
    public void FindsTheElementThatNamesTheStep(string step, int line, int column)
    {
        var file = _project.Write("p.proj", Project);
        Assert.Equal(new StepLocation(file, line, column), _locator.Find(file, step));
    }

    [Theory]
    [InlineData("commented")]
    [InlineData("Name")]
    [InlineData("x")]
    public void NoLiteralIncludeGivesNoLocation(string step) =>
        Assert.Null(_locator.Find(_project.Write("p.proj", Project), step));

    [Fact]
    public void AMissingOrBrokenFileGivesNoLocation()
    {
        Assert.Null(_locator.Find(_project.Combine("missing.proj"), "load"));
        Assert.Null(_locator.Find(_project.Write("broken.proj", "<Project><Step Include=\"load\""), "load"));
    }

    private const string Declarations = """
        <Project>
          <ItemGroup>
            <PipelineTool Include="python" VersionCommand="python3 --version" />
            <Step Include="train" Command="x" />
            <Step Include="train" Command="y" />
              <PipelineTool Include="python" VersionCommand="python --version" />
          </ItemGroup>
        </Project>
        """;

    [Theory]
    [InlineData("Step", "train", 0, 4, 5)]
    [InlineData("Step", "train", 1, 5, 5)]
    [InlineData("PipelineTool", "python", 0, 3, 5)]
    [InlineData("PipelineTool", "PYTHON", 1, 6, 7)]
    public void FindsAToolsElementAndTheSecondDeclarationOfAName(string element, string name, int occurrence, int line, int column)
    {
        var file = _project.Write("d.proj", Declarations);
        Assert.Equal(new StepLocation(file, line, column), _locator.Find(file, element, name, occurrence));
    }

    [Fact]
    public void AToolIsNotFoundAsAStepNorADeclarationThatIsNotThere()
    {
        var file = _project.Write("d.proj", Declarations);
        Assert.Null(_locator.Find(file, "python"));
        Assert.Null(_locator.Find(file, "Step", "train", 2));
    }
}
