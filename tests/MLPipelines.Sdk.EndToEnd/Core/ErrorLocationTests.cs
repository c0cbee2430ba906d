using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// Issue 11 item 14: an error about a step carries the file, line and column of its <c>&lt;Step&gt;</c> element, in
/// the project file or in the import that declares it, as <c>file(line,col): error MLPxxxx</c>, so an IDE jumps there.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class ErrorLocationTests(SdkPackage package, ITestOutputHelper output)
{
    private const string Import = """
        <Project>
          <ItemGroup>
            <!-- declared here, not in the project file -->
              <Step Include="imported" Command="printf i > i.txt" Outputs="i.txt" ExpiresAfter="soon" />
          </ItemGroup>
        </Project>
        """;

    [Fact]
    public void AStepErrorPointsAtItsElementInTheProjectOrItsImport()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("steps.props", Import);
        PipelineProject.Create(package.Version)
            .Import("steps.props")
            .Property("Which", "computed")
            .Step("good", "printf g > g.txt", outputs: "g.txt")
            .Step("versioned", "printf v > v.txt", outputs: "v.txt", metadata: [new("CacheVersion", "1.0")])
            .Step("$(Which)", "printf c > c.txt", outputs: "c.txt", metadata: [new("EnableCache", "maybe")])
            .Save(workspace);
        string project = workspace.GetPath(PipelineRuns.Project);
        (int Line, int Column) At(string text, string include)
        {
            string[] lines = text.Split('\n');
            int index = Array.FindIndex(lines, l => l.Contains($"Include=\"{include}\"", StringComparison.Ordinal));
            Assert.True(index >= 0, $"No element with Include=\"{include}\" in:\n{text}");
            return (index + 1, lines[index].IndexOf('<', StringComparison.Ordinal) + 1);
        }

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        (int line, int column) = At(workspace.ReadFile(PipelineRuns.Project), "versioned");
        Assert.Contains($"{project}({line},{column}): error MLP1009: CacheVersion '1.0' of step 'versioned'", result.Output, StringComparison.Ordinal);
        BuildMessage inProject = Assert.Single(result.Errors, e => e.Code == "MLP1009");
        Assert.Equal((project, line, column), (inProject.File, inProject.Line, inProject.Column));

        BuildMessage imported = Assert.Single(result.Errors, e => e.Code == "MLP1010");
        Assert.Equal((workspace.GetPath("steps.props"), 4, 7), (imported.File, imported.Line, imported.Column));
        Assert.Contains($"{workspace.GetPath("steps.props")}(4,7): error MLP1010: ExpiresAfter 'soon' of step 'imported'", result.Output, StringComparison.Ordinal);

        // An Include made of properties has no literal element to point at: the project file, without a line.
        BuildMessage computed = Assert.Single(result.Errors, e => e.Code == "MLP1012");
        Assert.Equal((project, (int?)null), (computed.File, computed.Line));
        Assert.False(workspace.FileExists("g.txt"), "A step ran despite the errors.");
    }

    [Fact]
    public void AnErrorFoundAfterParsingPointsAtTheStepToo()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("load", "printf l > l.txt", outputs: "l.txt")
            .Step("train;report", "printf t > $(Out).txt", outputs: "t.txt", dependsOn: "load,ghost")
            .Save(workspace);
        string text = workspace.ReadFile(PipelineRuns.Project);
        string[] lines = text.Split('\n');
        int index = Array.FindIndex(lines, l => l.Contains("Include=\"train;report\"", StringComparison.Ordinal));

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        // Both names of the one element are found there; the name not given by any step has no line.
        var unknown = result.Errors.Where(e => e.Code == "MLP1004").ToList();
        Assert.Equal(2, unknown.Count);
        Assert.All(unknown, e => Assert.Equal((workspace.GetPath(PipelineRuns.Project), index + 1, lines[index].IndexOf('<', StringComparison.Ordinal) + 1), (e.File, e.Line, e.Column)));
    }
}
