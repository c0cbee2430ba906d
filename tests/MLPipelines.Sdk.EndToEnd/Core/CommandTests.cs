using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// SPEC <c>Command</c>: a command stops at its first failing line (<c>sh -e</c>), unlike MSBuild's <c>Exec</c>. A step
/// that failed half-way is MLP2001 and is never cached, whether its lines are separated by <c>;</c>, by newlines in
/// an attribute or by newlines in a <c>&lt;Command&gt;</c> element.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class CommandTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void ACommandStopsAtItsFirstFailingPartAndIsNotCached()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .TracedStep("script", "echo a > a.txt; false; echo b > b.txt", outputs: "a.txt;b.txt")
            .Save(workspace);

        BuildResult first = workspace.RunPipeline().EnsureFailed();

        AssertFailedHalfWay(workspace, first, "script", "b.txt");
        BuildResult second = workspace.RunPipeline().EnsureFailed();
        second.EnsureLine("Cache miss for script: no earlier result.");
        Assert.Equal(["script", "script"], workspace.Executed());
    }

    [Fact]
    public void ACommandElementOfSeveralLinesStopsAtTheFailingLine()
    {
        using Workspace workspace = Workspace.Create(package, output);
        // Real newlines inside the element, indented as a person writes them; MSBuild keeps them in the metadata.
        PipelineProject.Create(package.Version)
            .Xml("""
                <ItemGroup>
                  <Step Include="lines">
                    <Command>
                      echo lines >> executed.log
                      echo one > one.txt
                      false
                      echo three > three.txt
                    </Command>
                    <Outputs>one.txt;three.txt</Outputs>
                  </Step>
                </ItemGroup>
                """)
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        AssertFailedHalfWay(workspace, result, "lines", "three.txt");
        Assert.Equal("one\n", workspace.ReadFile("one.txt"));
    }

    [Fact]
    public void AMultiLineCommandThatSucceedsRunsEveryLineAndIsCached()
    {
        using Workspace workspace = Workspace.Create(package, output);
        // The kit writes the newlines of an attribute as &#xA;, which MSBuild reads back as newlines.
        PipelineProject.Create(package.Version)
            .TracedStep("lines", "echo one > out.txt\necho two >> out.txt\n\necho three >> out.txt", outputs: "out.txt")
            .Save(workspace);

        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("lines", "no earlier result");
        Assert.Equal("one\ntwo\nthree\n", workspace.ReadFile("out.txt"));

        workspace.Delete("out.txt");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("lines");
        Assert.Equal("one\ntwo\nthree\n", workspace.ReadFile("out.txt"));
        Assert.Equal(["lines"], workspace.Executed());
    }

    /// <summary>MLP2001 naming the step, exit code 1 (false's), the file after the failing line not written, nothing stored.</summary>
    private static void AssertFailedHalfWay(Workspace workspace, BuildResult result, string step, string notWritten)
    {
        BuildMessage error = Assert.Single(result.Errors);
        Assert.Equal("MLP2001", error.Code);
        Assert.Contains($"'{step}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("exit code 1", error.Message, StringComparison.Ordinal);
        Assert.Equal(workspace.GetPath(PipelineRuns.Project), error.File);
        Assert.False(workspace.FileExists(notWritten), $"A line after the failing one ran.\n{result}");
        Assert.Equal([step], workspace.Executed());
        Assert.Empty(StoreInspector.Of(workspace).Entries());
        result.EnsureNoStackTrace();
    }
}
