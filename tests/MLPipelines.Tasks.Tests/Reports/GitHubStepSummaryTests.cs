using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Reports;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Reports;

/// <summary>
/// <c>GITHUB_STEP_SUMMARY</c>: the Markdown appended for GitHub Actions: totals, a table of steps, a Mermaid graph
/// coloured by outcome, names that cannot break either, and appending instead of overwriting.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed partial class GitHubStepSummaryTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    private string SummaryPath => _pipeline.Project.Combine("step_summary.md");

    private void Append(PipelineRun run) =>
        RunReports.Write(_pipeline.Options() with { GitHubStepSummary = SummaryPath }, _pipeline.Graph(), run.Result, run.Log);

    private void DeclareChain(string mode = "ok")
    {
        _pipeline.Step("a", "printf a > a.txt", ("Outputs", "a.txt"));
        _pipeline.Step("b", "test \"$PARAM_Mode\" != fail && cat a.txt > b.txt", ("Inputs", "a.txt"), ("Parameters", $"Mode={mode}"), ("Outputs", "b.txt"));
        _pipeline.Step("c", "cat b.txt > c.txt", ("Inputs", "b.txt"), ("Outputs", "c.txt"));
        _pipeline.Step("d", "printf d > d.txt", ("Outputs", "d.txt"));
    }

    /// <summary>The table's rows (header and rule left out), as cells.</summary>
    private static List<string[]> Rows(string markdown) =>
        markdown.Split('\n')
            .Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| Step |", StringComparison.Ordinal))
            .Select(l => l.Trim('|').Split(" | ").Select(c => c.Trim()).ToArray())
            .ToList();

    private static string Mermaid(string markdown)
    {
        var match = MermaidBlock().Match(markdown);
        Assert.True(match.Success, "No mermaid block:\n" + markdown);
        return match.Groups[1].Value;
    }

    [Fact]
    public async Task ARunAppendsTotalsATableOfStepsAndAGraphColouredByOutcome()
    {
        DeclareChain();
        var run = await _pipeline.RunAsync();
        Append(run);
        var markdown = File.ReadAllText(SummaryPath);

        Assert.Contains("### Pipeline p: succeeded\n", markdown, StringComparison.Ordinal);
        Assert.Matches(@"\n4 steps, 0 cached, 4 executed, hit rate 0%, \d+\.\ds, 0\.0s saved by hits\. Run `" + run.Result.RunId + @"`\.\n", markdown);
        Assert.Contains("| Step | Outcome | Reason | Duration | Saved |\n|---|---|---|---:|---:|\n", markdown, StringComparison.Ordinal);
        var rows = Rows(markdown);
        Assert.Equal(["a", "b", "c", "d"], rows.Select(r => r[0]));
        Assert.All(rows, r => Assert.Equal(["executed", "no earlier result", ""], [r[1], r[2], r[4]]));
        Assert.All(rows, r => Assert.Matches(@"^\d+\.\ds$", r[3]));

        var graph = Mermaid(markdown);
        Assert.StartsWith("flowchart LR\n", graph, StringComparison.Ordinal);
        Assert.Contains("  s0[\"a\"]:::executed\n", graph, StringComparison.Ordinal);
        Assert.Contains("  s3[\"d\"]:::executed\n", graph, StringComparison.Ordinal);
        // Edges from the graph, inferred from inputs: a -> b -> c, and d stands alone.
        Assert.Equal(["s0 --> s1", "s1 --> s2"], graph.Split('\n').Select(l => l.Trim()).Where(l => l.Contains("-->", StringComparison.Ordinal)));
        foreach (var outcome in new[] { "cached", "executed", "failed", "notrun" })
        {
            Assert.Matches($"\n  classDef {outcome} fill:#[0-9a-f]{{6}},stroke:#[0-9a-f]{{6}}", graph);
        }
    }

    [Fact]
    public async Task ACachedRunSaysWhatEachHitSaved()
    {
        DeclareChain();
        await _pipeline.RunAsync();
        var run = await _pipeline.RunAsync();
        Append(run);
        var markdown = File.ReadAllText(SummaryPath);

        var saved = run.Result.Steps.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.Saved);
        Assert.Contains($", {saved.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)}s saved by hits.", markdown, StringComparison.Ordinal);
        Assert.Contains("4 steps, 4 cached, 0 executed, hit rate 100%", markdown, StringComparison.Ordinal);
        foreach (var row in Rows(markdown))
        {
            Assert.Equal(("cached", ""), (row[1], row[2]));
            Assert.Equal(run[row[0]].Saved.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + "s", row[4]);
        }

        Assert.Equal(4, Regex.Count(Mermaid(markdown), @"\]:::cached\n"));
    }

    [Fact]
    public async Task AFailedRunColoursTheFailedStepAndWhatDidNotRun()
    {
        DeclareChain();
        await _pipeline.RunAsync();
        DeclareChain(mode: "fail");
        // d, independent of b, still runs after b failed (restored: a hit).
        var run = await _pipeline.RunAsync(o => o with { MaxParallelism = 1, ContinueOnError = true });
        Append(run);
        var markdown = File.ReadAllText(SummaryPath);

        Assert.Contains("### Pipeline p: failed\n", markdown, StringComparison.Ordinal);
        Assert.Contains("4 steps, 2 cached, 0 executed, 1 failed, 1 not run, hit rate 50%", markdown, StringComparison.Ordinal);
        var rows = Rows(markdown).ToDictionary(r => r[0]);
        Assert.Equal(("failed", "exit code 1"), (rows["b"][1], rows["b"][2]));
        Assert.Equal(("notrun", "needs b, which failed"), (rows["c"][1], rows["c"][2]));
        var graph = Mermaid(markdown);
        Assert.Contains("  s0[\"a\"]:::cached\n", graph, StringComparison.Ordinal);
        Assert.Contains("  s1[\"b\"]:::failed\n", graph, StringComparison.Ordinal);
        Assert.Contains("  s2[\"c\"]:::notrun\n", graph, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EachRunIsAppendedAfterWhatTheFileHeld()
    {
        DeclareChain();
        _pipeline.Project.Write("step_summary.md", "## Tests\n\nAll green.");
        Append(await _pipeline.RunAsync());
        Append(await _pipeline.RunAsync());
        var markdown = File.ReadAllText(SummaryPath);

        Assert.StartsWith("## Tests\n\nAll green.\n\n### Pipeline p: succeeded\n", markdown, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Count(markdown, "### Pipeline p: succeeded"));
        Assert.Equal(2, Regex.Count(markdown, "```mermaid\n"));
        Assert.Contains("4 steps, 0 cached, 4 executed", markdown, StringComparison.Ordinal);
        Assert.Contains("4 steps, 4 cached, 0 executed", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StepNamesThatAreMermaidKeywordsOrEdgeFormsAreOnlyLabels()
    {
        // Valid step names, each a trap as a Mermaid node id: a keyword that ends a block, one that starts a
        // subgraph, and names that read as circle (o) and cross (x) edges after "---".
        _pipeline.Step("end", "printf e > e.txt", ("Outputs", "e.txt"));
        _pipeline.Step("subgraph", "cat e.txt > s.txt", ("Inputs", "e.txt"), ("Outputs", "s.txt"));
        _pipeline.Step("o-x", "cat s.txt > o.txt", ("Inputs", "s.txt"), ("Outputs", "o.txt"));
        _pipeline.Step("x.y_z", "true", ("DependsOn", "o-x"));
        Append(await _pipeline.RunAsync());
        var graph = Mermaid(File.ReadAllText(SummaryPath));

        Assert.Equal(
            ["s0[\"end\"]:::executed", "s1[\"subgraph\"]:::executed", "s2[\"o-x\"]:::executed", "s3[\"x.y_z\"]:::executed", "s0 --> s1", "s1 --> s2", "s2 --> s3"],
            graph.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("classDef", StringComparison.Ordinal) && !l.StartsWith("flowchart", StringComparison.Ordinal)));
    }

    [Fact]
    public void OddNamesAndReasonsCannotBreakTheTableOrTheGraph()
    {
        _pipeline.Step("a", "true");
        var odd = "x|y\"<b>`*_[l](u)#\n";
        var result = new PipelineRunResult("r1", [
            new StepResult(odd, StepOutcome.Executed, "k", TimeSpan.FromSeconds(1.5), "parameter P changed (a|b -> <c>)\nsecond line"),
            new StepResult("a", StepOutcome.Cached, "k2", TimeSpan.Zero, null) { Remote = true, Saved = TimeSpan.FromSeconds(2) },
        ], TimeSpan.FromSeconds(2));

        var markdown = GitHubStepSummary.Render("p|q", _pipeline.Graph(), result);

        Assert.Contains("### Pipeline p\\|q: succeeded\n", markdown, StringComparison.Ordinal);
        Assert.Contains("| x\\|y\"&lt;b&gt;\\`\\*\\_\\[l\\](u)\\#  | executed | parameter P changed (a\\|b -&gt; &lt;c&gt;) second line | 1.5s |  |\n", markdown, StringComparison.Ordinal);
        Assert.Contains("| a | cached (remote) |  | 0.0s | 2.0s |\n", markdown, StringComparison.Ordinal);
        Assert.Contains("1 from the remote cache", markdown, StringComparison.Ordinal);
        // Every character but letters, digits, '.', '-', '_' and space is an entity code: no quote, bracket, backtick
        // or newline can end the label, the node or the code fence.
        Assert.Contains("  s0[\"x#124;y#34;#60;b#62;#96;#42;_#91;l#93;#40;u#41;#35;#10;\"]:::executed\n", markdown, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Count(markdown, "```"));
    }

    [GeneratedRegex("```mermaid\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex MermaidBlock();
}
