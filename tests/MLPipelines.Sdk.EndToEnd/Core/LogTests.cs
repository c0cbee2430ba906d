using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// SPEC "What the log shows": the pipeline's lines show at the default verbosity, with the classic console logger
/// and with the terminal logger, and a step's standard output and error reach the log prefixed with its name.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class LogTests(SdkPackage package, ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PipelineLinesAndStepOutputShowAtTheDefaultVerbosity(bool terminalLogger)
    {
        using Workspace workspace = Workspace.Create(package, output, terminalLogger ? "TerminalLogger" : "ConsoleLogger");
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "0.002")
            .Step("load", "echo loading rows && echo rows > data.txt", outputs: "data.txt")
            .Step("train", "echo training on `cat data.txt` && echo model > model.txt", inputs: "data.txt", outputs: "model.txt", parameters: "Gamma=$(Gamma)")
            .Save(workspace);
        var runner = new DotnetRunner(workspace) { TerminalLogger = terminalLogger };
        runner.RunPipeline().EnsureSucceeded();

        BuildResult result = runner.RunPipeline(DotnetRunner.Property("Gamma", "0.0001"))
            .EnsureSucceeded();

        string[] expected =
        [
            "Step load has started.",
            "Using cached version of load.",
            "Step train has started.",
            "Cache miss for train: parameter Gamma changed (0.002 -> 0.0001).",
            "train: training on rows",
        ];
        foreach (string line in expected)
        {
            Assert.True(terminalLogger ? result.Contains(line) : result.HasLine(line), $"Expected \"{line}\" in the log.\n{result}");
        }

        Assert.Matches(@"Step train has finished in \d+\.\d{3}s\.", result.Output);
        Assert.Matches(@"Pipeline pipeline: 2 steps, 1 cached, 1 executed, hit rate 50%, \d+\.\ds\.", result.Output);
    }

    [Fact]
    public void StandardOutputAndErrorLinesArePrefixedWithTheStepName()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("talk", "echo first line && echo to stderr >&2 && echo last line", metadata: [new("EnableCache", "false")])
            .Save(workspace);

        BuildResult result = workspace.RunPipeline().EnsureSucceeded();

        result.EnsureLine("talk: first line").EnsureLine("talk: to stderr").EnsureLine("talk: last line");
        Assert.True(result.IndexOfLine("talk: first line") < result.IndexOfLine("talk: last line"), result.ToString());
        Assert.Empty(result.Warnings);
        Assert.Empty(result.Errors);
    }
}
