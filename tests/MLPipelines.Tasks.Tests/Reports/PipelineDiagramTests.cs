using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Graph;
using MLPipelines.Engine.Reports;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Reports;

/// <summary>
/// Issue 11 item 8: the one renderer of a pipeline's graph (<c>ShowPipelineGraph</c>, the GitHub step summary), as
/// Mermaid and DOT, and the escaping that keeps any name or reason inside its label.
/// </summary>
public sealed class PipelineDiagramTests : IDisposable
{
    private readonly TempDirectory _project = new();

    public void Dispose() => _project.Dispose();

    /// <summary>a -> b -> c, d alone; step names may be anything the parser accepts (letters, digits, . - _).</summary>
    private PipelineGraph Graph()
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var steps = StepParser.Parse(
        [
            Raw.Step("a", "true", ("Outputs", "a.txt")),
            Raw.Step("b", "true", ("Inputs", "a.txt"), ("Outputs", "b.txt")),
            Raw.Step("c", "true", ("DependsOn", "b")),
            Raw.Step("d", "true"),
        ], _project.Path, diagnostics);
        return PipelineGraph.Build(steps, diagnostics) ?? throw new InvalidOperationException(string.Join("; ", diagnostics));
    }

    private static readonly KeyValuePair<string, DiagramStyle>[] Classes = [new("hit", DiagramStyle.Restored), new("pending", DiagramStyle.Waiting)];

    [Fact]
    public void MermaidDrawsEveryNodeWithItsStatusLineAndClassAndOnlyTheEdgesBetweenDrawnNodes()
    {
        DiagramNode[] nodes = [new("b", "hit", "hit"), new("c", "pending (waits for b)", "pending"), new("d", null, "hit")];

        var mermaid = PipelineDiagram.Mermaid(nodes, Graph(), Classes);

        Assert.Equal(
            "flowchart LR\n" +
            "  s0[\"b<br>hit\"]:::hit\n" +
            "  s1[\"c<br>pending #40;waits for b#41;\"]:::pending\n" +
            "  s2[\"d\"]:::hit\n" +
            "  s0 --> s1\n" +
            "  classDef hit fill:#dafbe1,stroke:#1a7f37,color:#0d3d1b\n" +
            "  classDef pending fill:#f6f8fa,stroke:#8c959f,color:#57606a,stroke-dasharray: 4 3\n",
            mermaid);
    }

    [Theory]
    [InlineData("plain name-1.2_x", "plain name-1.2_x")]
    [InlineData("a \"quoted\" b", "a #34;quoted#34; b")]
    [InlineData("x]:::hit\n  s9 --> s0", "x#93;#58;#58;#58;hit#10;  s9 --#62; s0")]
    [InlineData("<br>&amp;#35;`md`", "#60;br#62;#38;amp#59;#35;35#59;#96;md#96;")]
    [InlineData("é→😀", "#233;#8594;#128512;")]
    public void AMermaidLabelKeepsOnlySafeCharactersAndWritesTheRestAsEntityCodes(string text, string label) =>
        Assert.Equal(label, PipelineDiagram.MermaidLabel(text));

    [Fact]
    public void AMermaidStatusLineCannotEndTheLabelOrTheNode()
    {
        var mermaid = PipelineDiagram.Mermaid([new("a", "miss (input \"x\"] changed)\n  end", "miss")], Graph(), []);

        Assert.Equal("flowchart LR\n  s0[\"a<br>miss #40;input #34;x#34;#93; changed#41;#10;  end\"]:::miss\n", mermaid);
    }

    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
    [InlineData("a\\N b\\", "\"a\\\\N b\\\\\"")]
    [InlineData("two\nlines\r\u0007", "\"two\\nlines\"")]
    [InlineData("{ } ; -> [label=x]", "\"{ } ; -> [label=x]\"")]
    public void ADotStringEscapesQuotesAndBackslashesAndWritesLineBreaksAsDotDoes(string text, string quoted) =>
        Assert.Equal(quoted, PipelineDiagram.DotString(text));

    [Fact]
    public void DotDrawsANamedDigraphWithStyledNodesAndTheEdgesBetweenDrawnNodes()
    {
        DiagramNode[] nodes = [new("a", "hit", "hit"), new("b", "miss (parameter \"G\" changed)", "miss"), new("c", "pending (waits for b)", "pending")];

        var dot = PipelineDiagram.Dot("my \"pipe\"", nodes, Graph(), Classes.ToDictionary());

        Assert.Equal(
            "digraph \"my \\\"pipe\\\"\" {\n" +
            "  rankdir=LR;\n" +
            "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n" +
            "  s0 [label=\"a\\nhit\", class=\"hit\", fillcolor=\"#dafbe1\", color=\"#1a7f37\", fontcolor=\"#0d3d1b\"];\n" +
            "  s1 [label=\"b\\nmiss (parameter \\\"G\\\" changed)\", class=\"miss\"];\n" +
            "  s2 [label=\"c\\npending (waits for b)\", class=\"pending\", fillcolor=\"#f6f8fa\", color=\"#8c959f\", fontcolor=\"#57606a\", style=\"rounded,filled,dashed\"];\n" +
            "  s0 -> s1;\n" +
            "  s1 -> s2;\n" +
            "}\n",
            dot);
    }
}
