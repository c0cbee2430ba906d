using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// Issue 11 items 12 and 14, every further case: each MLPxxxx error or warning about one step, of any code
/// (configuration, execution, metrics), points at its <c>&lt;Step&gt;</c> element, also when the step is imported and
/// when the faulty value comes from an <c>ItemDefinitionGroup</c> default; a tool's errors point at its
/// <c>&lt;PipelineTool&gt;</c>; a name declared twice at the second element; and every failed user command (Command,
/// CacheKeyCommand, VersionCommand) says its exit code and how its standard error ended, on the error's one line.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class DiagnosticLocationTests(SdkPackage package, ITestOutputHelper output)
{
    /// <summary>The 1-based line and column of the <paramref name="nth"/> (0-based) line holding <paramref name="text"/>: where MSBuild says its element is.</summary>
    private static (int Line, int Column) At(string fileText, string text, int nth = 0)
    {
        string[] lines = fileText.Split('\n');
        int index = -1;
        for (int i = 0; i <= nth; i++)
        {
            index = Array.FindIndex(lines, index + 1, l => l.Contains(text, StringComparison.Ordinal));
            Assert.True(index >= 0, $"No {nth + 1} lines holding \"{text}\" in:\n{fileText}");
        }

        return (index + 1, lines[index].IndexOf('<', StringComparison.Ordinal) + 1);
    }

    private static void AssertLine(BuildResult result, string file, (int Line, int Column) at, string severity, string code, string message) =>
        Assert.Contains($"{file}({at.Line},{at.Column}): {severity} {code}: {message}", result.Output, StringComparison.Ordinal);

    private const string Steps = """
        <Project>
          <ItemGroup>
            <Step Include="imported" Command="echo i" Outputs="never.txt" />
              <Step Include="measured" Command="echo not-json > m.json" Outputs="m.json" Metrics="m.json" />
          </ItemGroup>
        </Project>
        """;

    [Fact]
    public void ExecutionErrorsAndWarningsPointAtTheStepInTheProjectOrItsImportAlsoWithAnItemDefinitionDefault()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("steps.props", Steps);
        // The CacheKeyCommand of every step comes from the ItemDefinitionGroup, not from any <Step>.
        PipelineProject.Create(package.Version)
            .Property("PipelineContinueOnError", "true")
            .ItemDefinition("CacheKeyCommand", "test -f key-ok || { echo no key-ok here >&2; echo out; echo make it first >&2; exit 5; }")
            .Import("steps.props")
            .Step("local", "echo starting; echo 'disk full' >&2; echo 'giving up' >&2; exit 7", outputs: "l.txt")
            .Save(workspace);
        string project = workspace.GetPath(PipelineRuns.Project);
        string props = workspace.GetPath("steps.props");
        (int, int) local = At(workspace.ReadFile(PipelineRuns.Project), "Include=\"local\"");
        (int, int) imported = At(Steps, "Include=\"imported\"");
        (int, int) measured = At(Steps, "Include=\"measured\"");
        const string KeyCommand = "test -f key-ok || { echo no key-ok here >&2; echo out; echo make it first >&2; exit 5; }";

        BuildResult failedKeys = workspace.RunPipeline().EnsureFailed();

        AssertLine(failedKeys, project, local, "error", "MLP2006",
            $"The CacheKeyCommand of step 'local' failed with exit code 5, so its key is unknown and the step does not run. Fix the command: '{KeyCommand}'. Its standard error ended with: no key-ok here | make it first");
        AssertLine(failedKeys, props, imported, "error", "MLP2006", "The CacheKeyCommand of step 'imported' failed with exit code 5,");
        AssertLine(failedKeys, props, measured, "error", "MLP2006", "The CacheKeyCommand of step 'measured' failed with exit code 5,");
        Assert.Equal(3, failedKeys.Errors.Count(e => e.Code == "MLP2006" && e.Line is not null));
        workspace.PlanPipeline().EnsureLine("local: miss (CacheKeyCommand exited with code 5. Its standard error ended with: no key-ok here | make it first (the run will fail))");

        workspace.WriteFile("key-ok", "");
        BuildResult failedSteps = workspace.RunPipeline().EnsureFailed();

        AssertLine(failedSteps, project, local, "error", "MLP2001",
            "Step 'local' failed with exit code 7. Its result is not cached; steps that depend on it do not run. Its standard error ended with: disk full | giving up");
        AssertLine(failedSteps, props, imported, "error", "MLP2002", "Step 'imported' succeeded but did not write its declared output 'never.txt'.");
        AssertLine(failedSteps, props, measured, "warning", "MLP2020", "");
        Assert.All(failedSteps.Errors.Concat(failedSteps.Warnings).Where(m => m.Code.StartsWith("MLP", StringComparison.Ordinal)), m => Assert.NotNull(m.Line));
    }

    private const string Tools = """
        <Project>
          <ItemGroup>
            <PipelineTool Include="python" VersionCommand="echo no python here &gt;&amp;2; echo out; echo try apt &gt;&amp;2; exit 3" />
          </ItemGroup>
        </Project>
        """;

    [Fact]
    public void AFailingVersionCommandPointsAtItsPipelineToolAndSaysWhy()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("tools.props", Tools);
        PipelineProject.Create(package.Version)
            .Import("tools.props")
            .Step("train", "echo t > t.txt", outputs: "t.txt")
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        AssertLine(result, workspace.GetPath("tools.props"), At(Tools, "Include=\"python\""), "error", "MLP2012",
            "The VersionCommand of tool 'python' ('echo no python here >&2; echo out; echo try apt >&2; exit 3') failed with exit code 3. " +
            "Without its version no step's key is known, so no step runs. Fix the command, or install the tool. Its standard error ended with: no python here | try apt");
        Assert.Equal("MLP2012", Assert.Single(workspace.PlanPipeline().EnsureFailed().Errors).Code);
        Assert.False(workspace.FileExists("t.txt"));
    }

    [Fact]
    public void ANameDeclaredTwiceIsReportedAtItsSecondElementAndAToolErrorAtItsElement()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Item("PipelineTool", "python", [new("VersionCommand", "echo 3")])
            .Item("PipelineTool", "uv")
            .Item("PipelineTool", "PYTHON", [new("VersionCommand", "echo 4")])
            .Step("train", "echo a > a.txt", outputs: "a.txt")
            .Step("Train", "echo b > b.txt", outputs: "b.txt", metadata: [new("ExpiresAfter", "soon")])
            .Save(workspace);
        string project = workspace.GetPath(PipelineRuns.Project);
        string text = workspace.ReadFile(PipelineRuns.Project);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        AssertLine(result, project, At(text, "Include=\"uv\""), "error", "MLP1022", "PipelineTool 'uv' has no VersionCommand.");
        AssertLine(result, project, At(text, "Include=\"PYTHON\""), "error", "MLP1022", "PipelineTool 'PYTHON' is declared twice. Declare each tool once.");
        AssertLine(result, project, At(text, "Include=\"Train\""), "error", "MLP1010", "ExpiresAfter 'soon' of step 'Train'");

        // Without the configuration errors, the duplicate step name is found and shown at the second <Step>.
        PipelineProject.Create(package.Version)
            .Step("train", "echo a > a.txt", outputs: "a.txt")
            .Step("Train", "echo b > b.txt", outputs: "b.txt")
            .Save(workspace);
        text = workspace.ReadFile(PipelineRuns.Project);
        BuildResult duplicate = workspace.RunPipeline().EnsureFailed();
        AssertLine(duplicate, project, At(text, "Include=\"Train\""), "error", "MLP1002", "Step name 'Train' is declared more than once.");
    }

    [Fact]
    public void AFailedCommandsErrorNeverShowsItsStepsEnvironmentValues()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("upload", "echo \"401: token $API_TOKEN refused\" >&2; exit 22", outputs: "u.txt",
                metadata: [new("Environment", "API_TOKEN=tok-s3cr3t-value")])
            .Save(workspace);

        BuildResult result = workspace.RunPipeline("-v:q").EnsureFailed();

        AssertLine(result, workspace.GetPath(PipelineRuns.Project), At(workspace.ReadFile(PipelineRuns.Project), "Include=\"upload\""), "error", "MLP2001",
            "Step 'upload' failed with exit code 22. Its result is not cached; no further step starts (PipelineContinueOnError=true runs those that do not depend on it). " +
            "Its standard error ended with: 401: token *** refused");
        Assert.DoesNotContain("tok-s3cr3t-value", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void ACommandThatCannotStartSaysWhyAtItsStep()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("work", "a file, not a folder");
        PipelineProject.Create(package.Version)
            .Property("PipelineContinueOnError", "true")
            .Step("run", "echo r > ../r.txt", outputs: "r.txt", metadata: [new("WorkingDirectory", "work")])
            .Step("keyed", "echo k > ../k.txt", outputs: "k.txt", metadata: [new("WorkingDirectory", "work"), new("CacheKeyCommand", "echo key")])
            .Save(workspace);
        string project = workspace.GetPath(PipelineRuns.Project);
        string text = workspace.ReadFile(PipelineRuns.Project);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        AssertLine(result, project, At(text, "Include=\"run\""), "error", "MLP2003",
            "Step 'run' could not start its command: its WorkingDirectory 'work' is a file, not a folder. Change WorkingDirectory.");
        AssertLine(result, project, At(text, "Include=\"keyed\""), "error", "MLP2003",
            "The CacheKeyCommand of step 'keyed' could not start: its WorkingDirectory 'work' is a file, not a folder: change WorkingDirectory. Its key is unknown, so the step does not run.");
    }

    [Fact]
    public void AColouredStandardErrorIsQuotedAsPlainTextOnOneLine()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("lint", "printf '\\033[31merror:\\033[0m line 3 is too long\\n' >&2; exit 1", outputs: "l.txt")
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureFailed();

        AssertLine(result, workspace.GetPath(PipelineRuns.Project), At(workspace.ReadFile(PipelineRuns.Project), "Include=\"lint\""), "error", "MLP2001",
            "Step 'lint' failed with exit code 1. Its result is not cached; no further step starts (PipelineContinueOnError=true runs those that do not depend on it). " +
            "Its standard error ended with: error: line 3 is too long");
        Assert.EndsWith("Its standard error ended with: error: line 3 is too long", Assert.Single(result.Errors, e => e.Code == "MLP2001").Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", string.Join("\n", result.Lines.Where(l => l.Contains("MLP2001", StringComparison.Ordinal))), StringComparison.Ordinal);
    }
}
