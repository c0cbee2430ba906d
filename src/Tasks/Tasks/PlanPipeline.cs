using System.Text;
using System.Text.Json;
using MLPipelines.Engine;
using MLPipelines.Engine.Execution;

namespace MLPipelines.Tasks;

/// <summary>The <c>PlanPipeline</c> target's task: a dry run through <see cref="PipelinePlanner"/>, as text or JSON.</summary>
public sealed class PlanPipeline : PipelineTask
{
    /// <summary><c>text</c> (default) or <c>json</c>.</summary>
    public string? Format { get; set; }

    /// <summary>Where to write the plan; empty to log it.</summary>
    public string? PlanFile { get; set; }

    private protected override void ExecuteCore(MSBuildPipelineLog log)
    {
        var format = string.IsNullOrWhiteSpace(Format) ? "text" : Format.Trim().ToLowerInvariant();
        if (format is not ("text" or "json"))
        {
            log.Error(new(ErrorCodes.InvalidProperty, null, $"Property PipelinePlanFormat='{Format}' is not valid: use text or json."));
            return;
        }

        if (LoadPipeline(log) is not var (options, graph))
        {
            return;
        }

        // The plan computes the keys the run will: with the tools' versions, found while the store opens.
        if (OpenStoreAndFindTools(options, log) is not var (store, ready))
        {
            return;
        }

        using var storeScope = store;
        options = ready;

        var plan = new PipelinePlanner(options, graph, store, log, cancellationToken: Cancellation).Plan();
        var text = format == "json" ? ToJson(options.PipelineName, plan) : ToText(options.PipelineName, plan);
        if (string.IsNullOrWhiteSpace(PlanFile))
        {
            foreach (var line in text.TrimEnd('\n').Split('\n'))
            {
                log.Message(line);
            }

            return;
        }

        var path = Path.GetFullPath(PlanFile, options.ProjectDirectory);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        log.Message($"Plan for pipeline {options.PipelineName} written to {path}.");
    }

    private static string ToText(string pipeline, IReadOnlyList<PlannedStep> plan)
    {
        var sb = new StringBuilder($"Plan for pipeline {pipeline}:\n");
        foreach (var step in plan)
        {
            var status = step.Status.ToString().ToLowerInvariant();
            sb.Append($"  {step.Name}: {status}").Append(step.Reason.Length > 0 ? $" ({step.Reason})" : "").Append('\n');
        }

        sb.Append($"Plan {pipeline}: {plan.Count} steps, {plan.Count(p => p.Status == PlanStatus.Hit)} hit, " +
                  $"{plan.Count(p => p.Status == PlanStatus.Miss)} miss, {plan.Count(p => p.Status == PlanStatus.Pending)} pending.\n");
        return sb.ToString();
    }

    private static string ToJson(string pipeline, IReadOnlyList<PlannedStep> plan)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("pipeline", pipeline);
            json.WriteStartArray("steps");
            foreach (var step in plan)
            {
                json.WriteStartObject();
                json.WriteString("name", step.Name);
                json.WriteString("status", step.Status.ToString().ToLowerInvariant());
                json.WriteString("reason", step.Reason);
                if (step.Key is null)
                {
                    json.WriteNull("key");
                }
                else
                {
                    json.WriteString("key", step.Key);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
