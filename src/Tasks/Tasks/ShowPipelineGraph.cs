using MLPipelines.Engine;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Reports;

namespace MLPipelines.Tasks;

/// <summary>
/// The <c>ShowPipelineGraph</c> target's task: the pipeline as a Mermaid flowchart (default) or a Graphviz DOT digraph,
/// each step marked with its plan status as <c>PlanPipeline</c> gives it (<see cref="PipelinePlanner"/> computes it;
/// <see cref="PipelineDiagram"/> only draws), like <c>dvc dag --mermaid</c> and <c>turbo --graph</c>.
/// </summary>
public sealed class ShowPipelineGraph : PipelineTask
{
    /// <summary><c>PipelineGraphFormat</c>: <c>mermaid</c> (default) or <c>dot</c>, any case; anything else is MLP1060.</summary>
    public string? Format { get; set; }

    /// <summary><c>PipelineGraphFile</c>: where to write the graph (relative to the project folder); empty to log it.</summary>
    public string? GraphFile { get; set; }

    // The classes are the plan statuses (PlannedStep.Status, lower case), coloured as the run's outcomes they lead to.
    private static readonly KeyValuePair<string, DiagramStyle>[] StatusStyles =
    [
        new("hit", DiagramStyle.Restored),
        new("miss", DiagramStyle.Executes),
        new("pending", DiagramStyle.Waiting),
    ];

    private protected override void ExecuteCore(MSBuildPipelineLog log)
    {
        var format = string.IsNullOrWhiteSpace(Format) ? "mermaid" : Format.Trim().ToLowerInvariant();
        if (format is not ("mermaid" or "dot"))
        {
            log.Error(new(ErrorCodes.InvalidGraphFormat, null, $"Property PipelineGraphFormat='{Format}' is not valid: use mermaid (the default) or dot."));
            return;
        }

        if (PlanPipelineSteps(log) is not var (options, graph, plan))
        {
            return;
        }

        var nodes = plan.Select(step => new DiagramNode(step.Name, step.StatusText, StatusClass(step.Status))).ToList();
        var text = format == "dot"
            ? PipelineDiagram.Dot(options.PipelineName, nodes, graph, StatusStyles.ToDictionary())
            : PipelineDiagram.Mermaid(nodes, graph, StatusStyles);
        Show(text, GraphFile, "PipelineGraphFile", $"Graph of pipeline {options.PipelineName}", options, log);
    }

    private static string StatusClass(PlanStatus status) => status.ToString().ToLowerInvariant();
}
