using System.Globalization;
using System.Text;
using MLPipelines.Engine.Graph;

namespace MLPipelines.Engine.Reports;

/// <summary>One step drawn in a diagram: its name, an optional second line (a status) and the class that colours it.</summary>
public sealed record DiagramNode(string Step, string? Detail, string Class);

/// <summary>How one class of nodes looks: fill, border and text colours (<c>#rrggbb</c>), and a dashed border.</summary>
public sealed record DiagramStyle(string Fill, string Stroke, string Text, bool Dashed = false)
{
    /// <summary>Restored from the cache (a hit, a cached step).</summary>
    public static DiagramStyle Restored { get; } = new("#dafbe1", "#1a7f37", "#0d3d1b");

    /// <summary>Executed, or will execute (a miss).</summary>
    public static DiagramStyle Executes { get; } = new("#ddf4ff", "#0969da", "#0a3069");

    /// <summary>Failed.</summary>
    public static DiagramStyle Failed { get; } = new("#ffebe9", "#cf222e", "#82071e");

    /// <summary>Did not run, or waits for an upstream step (pending).</summary>
    public static DiagramStyle Waiting { get; } = new("#f6f8fa", "#8c959f", "#57606a", Dashed: true);
}

/// <summary>
/// Draws a pipeline's steps and their dependency edges as a Mermaid flowchart or a Graphviz DOT digraph: the one
/// renderer behind <c>ShowPipelineGraph</c> and the GitHub step summary (<see cref="GitHubStepSummary"/>). Node ids
/// are generated (<c>s0</c>, <c>s1</c>…), never a step's name, and every label is escaped for its language, so no
/// name or reason can end a label, start an edge or be read as a keyword.
/// </summary>
public static class PipelineDiagram
{
    /// <summary>
    /// A Mermaid <c>flowchart LR</c> (without a code fence), one line each: the nodes in <paramref name="nodes"/>'
    /// order as <c>s0["name&lt;br&gt;detail"]:::class</c>, the edges from each node's direct upstream steps among
    /// <paramref name="nodes"/>, then a <c>classDef</c> per entry of <paramref name="classes"/>.
    /// </summary>
    public static string Mermaid(IReadOnlyList<DiagramNode> nodes, PipelineGraph graph, IReadOnlyList<KeyValuePair<string, DiagramStyle>> classes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(classes);
        var text = new StringBuilder("flowchart LR\n");
        var ids = Ids(nodes);
        foreach (var node in nodes)
        {
            var label = MermaidLabel(node.Step) + (node.Detail is { } detail ? "<br>" + MermaidLabel(detail) : "");
            text.Append(CultureInfo.InvariantCulture, $"  {ids[node.Step]}[\"{label}\"]:::{node.Class}\n");
        }

        foreach (var (from, to) in Edges(nodes, graph, ids))
        {
            text.Append(CultureInfo.InvariantCulture, $"  {from} --> {to}\n");
        }

        foreach (var (name, style) in classes)
        {
            text.Append(CultureInfo.InvariantCulture, $"  classDef {name} fill:{style.Fill},stroke:{style.Stroke},color:{style.Text}")
                .Append(style.Dashed ? ",stroke-dasharray: 4 3\n" : "\n");
        }

        return text.ToString();
    }

    /// <summary>
    /// A Graphviz <c>digraph</c> named <paramref name="title"/>, left to right: each node <c>s0 [label="name\ndetail",
    /// …colours of its class]</c>, then the edges from each node's direct upstream steps among <paramref name="nodes"/>.
    /// A class missing from <paramref name="classes"/> gets Graphviz's default look.
    /// </summary>
    public static string Dot(string title, IReadOnlyList<DiagramNode> nodes, PipelineGraph graph, IReadOnlyDictionary<string, DiagramStyle> classes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(classes);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"digraph {DotString(title)} {{\n");
        text.Append("  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n");
        var ids = Ids(nodes);
        foreach (var node in nodes)
        {
            var label = DotString(node.Step + (node.Detail is { } detail ? "\n" + detail : ""));
            var look = classes.TryGetValue(node.Class, out var style)
                ? $", fillcolor=\"{style.Fill}\", color=\"{style.Stroke}\", fontcolor=\"{style.Text}\"" + (style.Dashed ? ", style=\"rounded,filled,dashed\"" : "")
                : "";
            text.Append(CultureInfo.InvariantCulture, $"  {ids[node.Step]} [label={label}, class={DotString(node.Class)}{look}];\n");
        }

        foreach (var (from, to) in Edges(nodes, graph, ids))
        {
            text.Append(CultureInfo.InvariantCulture, $"  {from} -> {to};\n");
        }

        return text.Append("}\n").ToString();
    }

    private static Dictionary<string, string> Ids(IReadOnlyList<DiagramNode> nodes)
    {
        var ids = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var node in nodes)
        {
            ids[node.Step] = "s" + ids.Count.ToString(CultureInfo.InvariantCulture);
        }

        return ids;
    }

    // Only between drawn nodes: a step the selection left out (or one the graph does not know) draws no edge.
    private static IEnumerable<(string From, string To)> Edges(IReadOnlyList<DiagramNode> nodes, PipelineGraph graph, Dictionary<string, string> ids) =>
        nodes.Where(n => graph.Contains(n.Step))
            .SelectMany(n => graph.UpstreamOf(n.Step).Where(ids.ContainsKey).Select(upstream => (ids[upstream], ids[n.Step])));

    /// <summary>
    /// A Mermaid label for inside double quotes: ASCII letters and digits, <c>. - _</c> and spaces as they are, every
    /// other character as Mermaid's entity code (<c>#34;</c>), so no text can close the quote, the node or a code fence.
    /// </summary>
    public static string MermaidLabel(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var label = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune) && rune.IsAscii || rune.Value is '.' or '-' or '_' or ' ')
            {
                label.Append(rune.ToString());
            }
            else
            {
                label.Append('#').Append(rune.Value.ToString(CultureInfo.InvariantCulture)).Append(';');
            }
        }

        return label.ToString();
    }

    /// <summary>
    /// A DOT double-quoted string, quotes included (Graphviz "lang" grammar): <c>"</c> and <c>\</c> escaped with a
    /// backslash (so <c>\N</c>, <c>\G</c> and the like stay literal), a line break as DOT's <c>\n</c>, other control
    /// characters dropped.
    /// </summary>
    public static string DotString(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"' or '\\': quoted.Append('\\').Append(c); break;
                case '\n': quoted.Append("\\n"); break;
                case < ' ' or '\u007f': break;
                default: quoted.Append(c); break;
            }
        }

        return quoted.Append('"').ToString();
    }
}
