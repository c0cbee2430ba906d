using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Policies;

/// <summary>
/// Issue 11 item 8, <c>ShowPipelineGraph</c>: the pipeline as Mermaid (default) or DOT, each step marked with the
/// status <c>PlanPipeline</c> gives it, shown by the terminal logger at the default verbosity or written to a file,
/// for all steps or a <c>PipelineSteps</c> selection and what it needs.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class GraphTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void TheMermaidGraphShowsInTheTerminalWithEachStepsPlanStatusAndTheRunAgrees()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveHitMissPendingPipeline(workspace);

        BuildResult graph = new DotnetRunner(workspace) { TerminalLogger = true }.RunTarget("ShowPipelineGraph").EnsureSucceeded();

        // Mermaid text as the terminal logger printed it (its own indentation and decorations aside).
        string[] lines = graph.Lines.Select(l => l.Trim()).ToArray();
        Assert.Contains("flowchart LR", lines);
        Assert.Contains("s0[\"a<br>hit\"]:::hit", lines);
        Assert.Contains("s1[\"b<br>miss #40;input b.txt changed#41;\"]:::miss", lines);
        Assert.Contains("s2[\"c<br>pending #40;waits for b#41;\"]:::pending", lines);
        // c reads b's output; a and b are independent.
        Assert.Equal(["s1 --> s2"], lines.Where(l => l.Contains("-->", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("classDef pending ", StringComparison.Ordinal));
        Assert.Empty(graph.LinesContaining("has started."));

        workspace.RunPipeline().EnsureSucceeded().EnsureHit("a").EnsureMiss("b", "input b.txt changed").EnsureMiss("c", "input out/b.txt changed");
    }

    [Fact]
    public void TheDotGraphOfASelectionGoesToAFileAndGraphvizReadsIt()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveHitMissPendingPipeline(workspace);

        workspace.RunTarget("ShowPipelineGraph",
                DotnetRunner.Property("PipelineGraphFormat", "DOT"),
                DotnetRunner.Property("PipelineSteps", "c"),
                DotnetRunner.Property("PipelineGraphFile", "graphs/pipeline.dot"))
            .EnsureSucceeded()
            .EnsureLine($"Graph of pipeline pipeline written to {workspace.GetPath("graphs/pipeline.dot")}.");

        string dot = workspace.ReadFile("graphs/pipeline.dot");
        Assert.StartsWith("digraph \"pipeline\" {\n", dot, StringComparison.Ordinal);
        // c and what it needs (b, whose output it reads; not a, which it does not): the selection as PlanPipeline makes it.
        Assert.Contains("  s0 [label=\"b\\nmiss (input b.txt changed)\", class=\"miss\"", dot, StringComparison.Ordinal);
        Assert.Contains("  s1 [label=\"c\\npending (waits for b)\", class=\"pending\"", dot, StringComparison.Ordinal);
        Assert.DoesNotContain("label=\"a", dot, StringComparison.Ordinal);
        Assert.Equal(["  s0 -> s1;"], dot.Split('\n').Where(l => l.Contains("->", StringComparison.Ordinal) && !l.Contains("label", StringComparison.Ordinal)));
        Assert.EndsWith("}\n", dot, StringComparison.Ordinal);

        // Graphviz is optional here (CI does not install it): when present, its parser is the judge of validity.
        string? graphviz = GraphvizPaths.FirstOrDefault(File.Exists);
        if (graphviz is not null)
        {
            ProcessResult svg = workspace.Run(graphviz, "-Tsvg", "-o", "pipeline.svg", "graphs/pipeline.dot").EnsureSucceeded();
            Assert.Contains("<svg", workspace.ReadFile("pipeline.svg"), StringComparison.Ordinal);
            Assert.Empty(svg.Output.Trim());
        }
    }

    [Fact]
    public void AnUnknownGraphFormatIsMLP1060()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveHitMissPendingPipeline(workspace);

        BuildResult result = workspace.RunTarget("ShowPipelineGraph", DotnetRunner.Property("PipelineGraphFormat", "svg")).EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors);
        Assert.Equal("MLP1060", error.Code);
        Assert.Contains("PipelineGraphFormat='svg'", error.Message, StringComparison.Ordinal);
        Assert.Contains("mermaid", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGraphFileThatCannotBeWrittenIsMLP1061NamingTheProperty()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveHitMissPendingPipeline(workspace);

        // Below a file, so its folder cannot be created.
        BuildResult result = workspace.RunTarget("ShowPipelineGraph", DotnetRunner.Property("PipelineGraphFile", "a.txt/graph.mmd")).EnsureFailed();

        BuildMessage error = Assert.Single(result.Errors);
        Assert.Equal("MLP1061", error.Code);
        Assert.Contains("PipelineGraphFile='a.txt/graph.mmd' cannot be written", error.Message, StringComparison.Ordinal);
        Assert.Empty(result.LinesContaining("MLP4003"));
    }

    private static readonly string[] GraphvizPaths = ["/usr/bin/dot", "/usr/local/bin/dot", "/opt/homebrew/bin/dot"];

    /// <summary>
    /// a: unchanged (a hit); b: its input edited (a miss); c: reads b's output (pending). a and b are independent.
    /// Runs once, then edits.
    /// </summary>
    private void SaveHitMissPendingPipeline(Workspace workspace)
    {
        workspace.WriteFile("b.txt", "b1\n");
        PipelineProject.Create(package.Version)
            .Step("a", "echo a > a.txt", outputs: "a.txt")
            .Step("b", "mkdir -p out && cat b.txt > out/b.txt", inputs: "b.txt", outputs: "out/b.txt")
            .Step("c", "cat out/b.txt > c.txt", inputs: "out/b.txt", outputs: "c.txt")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        workspace.WriteFile("b.txt", "b2\n");
    }
}
