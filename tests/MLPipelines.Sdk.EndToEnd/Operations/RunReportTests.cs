using System.Text.Json;
using System.Text.RegularExpressions;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Operations;

/// <summary>
/// Reports for CI systems, through real builds: <c>-p:PipelineSummaryFile</c> writes the run's JSON summary, and a
/// <c>GITHUB_STEP_SUMMARY</c> file in the build's environment gets the Markdown summary appended, for executed,
/// cached and failed runs alike.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class RunReportTests(SdkPackage package, ITestOutputHelper output)
{
    private const string SummaryFile = "reports/summary.json";

    [Fact]
    public void EveryRunWritesTheJsonSummaryAndAppendsTheGitHubSummaryExecutedCachedAndFailed()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveChain(workspace);
        var store = StoreInspector.Of(workspace);
        // GitHub's file lies outside the project, and already holds what an earlier job step wrote.
        string stepSummary = Path.Combine(workspace.Root, "github", "step_summary.md");
        Directory.CreateDirectory(Path.GetDirectoryName(stepSummary)!);
        File.WriteAllText(stepSummary, "## Restore\n\nDone.\n");
        var runner = new DotnetRunner(workspace);
        runner.Environment["GITHUB_STEP_SUMMARY"] = stepSummary;
        string summaryProperty = DotnetRunner.Property("PipelineSummaryFile", SummaryFile);

        // 1. Everything executes.
        runner.RunPipeline(summaryProperty).EnsureSucceeded();
        JsonElement first = ReadSummary(workspace);
        Assert.Equal(1, first.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(store.LatestRun().Id, first.GetProperty("runId").GetString());
        Assert.Equal(("pipeline", "succeeded"), (first.GetProperty("pipeline").GetString(), first.GetProperty("status").GetString()));
        Assert.Equal((3, 0, 3, 0, 0), Totals(first));
        foreach (JsonElement step in first.GetProperty("steps").EnumerateArray())
        {
            string name = step.GetProperty("name").GetString()!;
            Assert.Equal(("executed", "no earlier result"), (step.GetProperty("outcome").GetString(), step.GetProperty("reason").GetString()));
            Assert.Equal(store.Entry(name).Key, step.GetProperty("key").GetString());
            // Output files as the entry holds them: the same hash names the object holding the bytes.
            JsonElement file = Assert.Single(step.GetProperty("outputs").EnumerateArray());
            Assert.Equal($"{name}.txt", file.GetProperty("path").GetString());
            Assert.Equal(workspace.ReadFile($"{name}.txt"), File.ReadAllText(store.ObjectPath(file.GetProperty("hash").GetString()!)));
            Assert.Equal(workspace.ReadBytes($"{name}.txt").Length, file.GetProperty("size").GetInt64());
        }

        JsonElement b = Step(first, "b");
        Assert.Equal(["a"], b.GetProperty("dependsOn").EnumerateArray().Select(d => d.GetString()));
        JsonElement input = Assert.Single(b.GetProperty("inputs").EnumerateArray());
        Assert.Equal(("input", "a.txt"), (input.GetProperty("kind").GetString(), input.GetProperty("path").GetString()));
        Assert.Equal(Assert.Single(store.Entry("a").Manifest).Hash, input.GetProperty("hash").GetString());
        Assert.DoesNotContain("s3cr3t-token", File.ReadAllText(workspace.GetPath(SummaryFile)), StringComparison.Ordinal);

        string markdown = File.ReadAllText(stepSummary);
        Assert.StartsWith("## Restore\n\nDone.\n\n### Pipeline pipeline: succeeded\n", markdown, StringComparison.Ordinal);
        Assert.Equal(["a|executed|no earlier result", "b|executed|no earlier result", "c|executed|no earlier result"], Rows(markdown, section: 0));
        Assert.Contains("  s0[\"a\"]:::executed\n", markdown, StringComparison.Ordinal);
        Assert.Contains("  s0 --> s1\n  s1 --> s2\n", markdown, StringComparison.Ordinal);

        // 2. Everything is restored; each hit saved what the producing run spent on the step (set, rather than waited for).
        store.SetDuration("a", TimeSpan.FromSeconds(40)).SetDuration("b", TimeSpan.FromSeconds(2)).SetDuration("c", TimeSpan.FromMilliseconds(500));
        runner.RunPipeline(summaryProperty).EnsureSucceeded();
        JsonElement second = ReadSummary(workspace);
        Assert.NotEqual(first.GetProperty("runId").GetString(), second.GetProperty("runId").GetString());
        Assert.Equal((3, 3, 0, 0, 0), Totals(second));
        Assert.Equal(42_500, second.GetProperty("totals").GetProperty("savedMs").GetInt64());
        Assert.Equal([40_000L, 2_000L, 500L], second.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("savedMs").GetInt64()));
        Assert.All(second.GetProperty("steps").EnumerateArray(), s => Assert.Equal("local", s.GetProperty("cacheSource").GetString()));
        Assert.Equal(Step(first, "c").GetProperty("outputs").ToString(), Step(second, "c").GetProperty("outputs").ToString());

        markdown = File.ReadAllText(stepSummary);
        Assert.Equal(2, Regex.Count(markdown, "### Pipeline pipeline: "));
        Assert.Matches(@"3 steps, 3 cached, 0 executed, hit rate 100%, \d+\.\ds, 42\.5s saved by hits\.", markdown);
        Assert.Equal(["a|cached|", "b|cached|", "c|cached|"], Rows(markdown, section: 1));

        // 3. b fails, so c does not run; both reports are still written, and the build fails as before.
        BuildResult failed = runner.RunPipeline(summaryProperty, DotnetRunner.Property("Mode", "fail")).EnsureFailed();
        Assert.True(failed.HasError("MLP2001"), failed.ToString());
        JsonElement third = ReadSummary(workspace);
        Assert.Equal("failed", third.GetProperty("status").GetString());
        Assert.Equal((3, 1, 0, 1, 1), Totals(third));
        Assert.Equal(("failed", "exit code 1"), (Step(third, "b").GetProperty("outcome").GetString(), Step(third, "b").GetProperty("reason").GetString()));
        Assert.Equal(("notrun", "needs b, which failed"), (Step(third, "c").GetProperty("outcome").GetString(), Step(third, "c").GetProperty("reason").GetString()));

        markdown = File.ReadAllText(stepSummary);
        Assert.Contains("### Pipeline pipeline: failed\n", markdown, StringComparison.Ordinal);
        Assert.Equal(["a|cached|", "b|failed|exit code 1", "c|notrun|needs b, which failed"], Rows(markdown, section: 2));
        string graph = markdown[markdown.LastIndexOf("```mermaid", StringComparison.Ordinal)..];
        Assert.Contains("  s0[\"a\"]:::cached\n  s1[\"b\"]:::failed\n  s2[\"c\"]:::notrun\n", graph, StringComparison.Ordinal);
    }

    [Fact]
    public void ASummaryFileThatCannotBeWrittenIsAWarningNotAFailedBuild()
    {
        using Workspace workspace = Workspace.Create(package, output);
        SaveChain(workspace);
        workspace.WriteFile("blocker", "a file where the summary's folder should be");

        BuildResult build = workspace.RunPipeline(DotnetRunner.Property("PipelineSummaryFile", "blocker/summary.json")).EnsureSucceeded();

        BuildMessage warning = Assert.Single(build.Warnings, w => w.Code == "MLP4004");
        Assert.Contains($"could not be written to '{workspace.GetPath("blocker/summary.json")}'", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", build.Output, StringComparison.Ordinal); // No stack trace.
        Assert.Equal("c", workspace.ReadFile("c.txt")[^1..]);
    }

    private void SaveChain(Workspace workspace) =>
        PipelineProject.Create(package.Version)
            .PropertyDefault("Mode", "ok")
            .Step("a", "printf a > a.txt", outputs: "a.txt", metadata: [new("Environment", "API_TOKEN=s3cr3t-token")])
            .Step("b", "test \"$PARAM_Mode\" != fail && cat a.txt > b.txt && printf b >> b.txt", inputs: "a.txt", outputs: "b.txt", parameters: "Mode=$(Mode)")
            .Step("c", "cat b.txt > c.txt && printf c >> c.txt", inputs: "b.txt", outputs: "c.txt")
            .Save(workspace);

    private static JsonElement ReadSummary(Workspace workspace)
    {
        using JsonDocument document = JsonDocument.Parse(workspace.ReadFile(SummaryFile));
        return document.RootElement.Clone();
    }

    private static JsonElement Step(JsonElement summary, string name) =>
        summary.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == name);

    private static (int Steps, int Cached, int Executed, int Failed, int NotRun) Totals(JsonElement summary)
    {
        JsonElement t = summary.GetProperty("totals");
        return (t.GetProperty("steps").GetInt32(), t.GetProperty("cached").GetInt32(), t.GetProperty("executed").GetInt32(),
            t.GetProperty("failed").GetInt32(), t.GetProperty("notRun").GetInt32());
    }

    /// <summary>The step rows of the <paramref name="section"/>th appended summary, as "name|outcome|reason".</summary>
    private static List<string> Rows(string markdown, int section)
    {
        string[] sections = markdown.Split("\n### Pipeline ");
        Assert.True(sections.Length > section + 1, $"No section {section}:\n{markdown}");
        return sections[section + 1].Split('\n')
            .Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| Step |", StringComparison.Ordinal))
            .Select(l => string.Join('|', l.Trim('|').Split(" | ").Take(3).Select(c => c.Trim())))
            .ToList();
    }
}
