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

        // The plan computes the keys the run will: with the tools' versions, found while the store opens.
        if (PlanPipelineSteps(log) is not var (options, _, plan))
        {
            return;
        }

        var text = format == "json" ? ToJson(options.PipelineName, plan) : ToText(options.PipelineName, plan);
        Show(text, PlanFile, "PipelinePlanFile", $"Plan for pipeline {options.PipelineName}", options, log);
    }

    private static string ToText(string pipeline, IReadOnlyList<PlannedStep> plan)
    {
        var sb = new StringBuilder($"Plan for pipeline {pipeline}:\n");
        foreach (var step in plan)
        {
            sb.Append($"  {step.Name}: {step.StatusText}\n");
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

                // Added in issue 11 (the fields above keep their meaning): the step's part in a resume, whether the
                // run fails at the step, and what a hit's restore changes among its outputs.
                if (step.Resume is { } role)
                {
                    json.WriteString("resume", role == ResumeRole.RestoreOnly ? "restore" : "execute");
                }
                else
                {
                    json.WriteNull("resume");
                }

                json.WriteBoolean("fails", step.Fails);
                json.WriteBoolean("remote", step.Remote);
                if (step.Restore is { } restore)
                {
                    json.WriteStartObject("restore");
                    WritePaths(json, "edited", restore.Edited);
                    WritePaths(json, "deleted", restore.Deleted);
                    WritePaths(json, "extra", restore.Extra);
                    json.WriteEndObject();
                }
                else
                {
                    json.WriteNull("restore");
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WritePaths(Utf8JsonWriter json, string name, IReadOnlyList<string> paths)
    {
        json.WriteStartArray(name);
        foreach (var path in paths)
        {
            json.WriteStringValue(path);
        }

        json.WriteEndArray();
    }
}
