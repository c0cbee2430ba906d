using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Graph;
using MLPipelines.Engine.Keys;

namespace MLPipelines.Engine.Reports;

/// <summary>
/// The JSON summary of one run (<c>PipelineSummaryFile</c>), in the spirit of Turborepo's <c>--summarize</c>: what
/// ran, what hit and why the rest missed, with every step's input and output files by content hash. Every field is
/// always written (null when unknown), so a consumer can rely on the shape; the README has the schema.
/// </summary>
public static class RunSummary
{
    /// <summary>
    /// Bumped when a field changes meaning or goes away; adding a field keeps the version, so readers should ignore
    /// fields they do not know.
    /// </summary>
    public const int SchemaVersion = 1;

    /// <summary>The summary document of <paramref name="result"/>; edges (<c>dependsOn</c>) come from <paramref name="graph"/>.</summary>
    public static RunSummaryDocument Build(string pipeline, PipelineGraph graph, PipelineRunResult result)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(result);
        var steps = result.Steps.Select(s => new StepSummary(
            s.Name,
            OutcomeName(s.Outcome),
            s.MissReason,
            s.Key,
            Milliseconds(s.Duration),
            Milliseconds(s.Saved),
            s.Outcome == StepOutcome.Cached ? s.Remote ? "remote" : "local" : null,
            graph.Contains(s.Name) ? [.. graph.UpstreamOf(s.Name)] : [],
            s.Components is { } components ? InputFiles(components) : null,
            s.Outputs?.Select(f => new OutputFileSummary(f.Path, f.Hash, f.Size)).ToList(),
            s.Parameters is null ? null : new SortedDictionary<string, string>(s.Parameters.ToDictionary(), StringComparer.Ordinal),
            s.Metrics is null ? null : new SortedDictionary<string, double>(s.Metrics.ToDictionary(), StringComparer.Ordinal))).ToList();
        var totals = new RunTotals(
            result.Steps.Count,
            result.Count(StepOutcome.Cached),
            result.Count(StepOutcome.Executed),
            result.Count(StepOutcome.Failed),
            result.Count(StepOutcome.NotRun),
            result.Steps.Count(s => s.Outcome == StepOutcome.Cached && s.Remote),
            result.RemoteUploads,
            Milliseconds(result.Steps.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.Saved)),
            result.CacheableCount,
            result.HitRatePercent);
        return new RunSummaryDocument(
            SchemaVersion,
            result.RunId,
            pipeline,
            result.Status,
            result.StartedAt,
            result.StartedAt + result.Duration,
            Milliseconds(result.Duration),
            result.GitCommit,
            totals,
            result.Tools is null ? null : new SortedDictionary<string, string>(result.Tools.ToDictionary(), StringComparer.Ordinal),
            steps);
    }

    /// <summary>The document as indented UTF-8 JSON text, ending with a newline.</summary>
    public static string ToJson(RunSummaryDocument document) =>
        JsonSerializer.Serialize(document, ReportJson.Relaxed.RunSummaryDocument) + "\n";

    /// <summary>The outcome as the run record spells it: <c>cached</c>, <c>executed</c>, <c>failed</c>, <c>notrun</c>.</summary>
    public static string OutcomeName(StepOutcome outcome) => outcome.ToString().ToLowerInvariant();

    /// <summary>
    /// The files a key hashed, by kind. Only file components: never <c>env</c> or <c>envDep</c> (secrets, and only
    /// keyed hashes anyway), nor parameters, the command or settings.
    /// </summary>
    private static List<InputFileSummary> InputFiles(IReadOnlyList<KeyComponent> components)
    {
        var files = new List<InputFileSummary>();
        foreach (var c in components)
        {
            var kind = c.Kind switch
            {
                // IncludeArtifactIds adds "<path>#id": a hash of the file's identity (stamp or producer), not its content.
                ComponentKind.Input when c.Name.EndsWith("#id", StringComparison.Ordinal) => "inputIdentity",
                ComponentKind.Input => "input",
                ComponentKind.Code => "code",
                ComponentKind.FileDependency => "fileDependency",
                ComponentKind.SourceDependency => "sourceDependency",
                _ => null,
            };
            if (kind is not null)
            {
                files.Add(new InputFileSummary(kind == "inputIdentity" ? c.Name[..^3] : c.Name, kind, c.Hash));
            }
        }

        return files;
    }

    private static long Milliseconds(TimeSpan span) => (long)Math.Round(span.TotalMilliseconds);
}

/// <summary>The whole summary (<c>schemaVersion</c> 1). Times are UTC ISO 8601, durations whole milliseconds.</summary>
public sealed record RunSummaryDocument(
    int SchemaVersion,
    string RunId,
    string Pipeline,
    string Status,
    DateTimeOffset StartedAt,
    DateTimeOffset EndedAt,
    long DurationMs,
    string? GitCommit,
    RunTotals Totals,
    SortedDictionary<string, string>? Tools,
    List<StepSummary> Steps);

/// <summary>
/// Step counts by outcome, remote cache traffic, the execution time hits saved (milliseconds), the steps whose cache
/// was on and the hit rate among them (<see cref="HitRate"/>; null when no step was cacheable).
/// </summary>
public sealed record RunTotals(int Steps, int Cached, int Executed, int Failed, int NotRun, int RemoteHits, int RemoteUploads, long SavedMs, int Cacheable, int? HitRatePercent);

/// <summary>
/// One step. <c>Reason</c>: why it missed (executed), failed or did not run; null for a hit. <c>CacheSource</c>:
/// <c>local</c> or <c>remote</c> for a hit, else null. <c>Inputs</c> is null when the key was not computed;
/// <c>Outputs</c> is null when no entry was restored or stored. <c>Parameters</c>: the step's parameters by name, null
/// when its key was not computed; <c>Metrics</c>: its metrics by name, null when it declares none or did not succeed.
/// </summary>
public sealed record StepSummary(
    string Name,
    string Outcome,
    string? Reason,
    string? Key,
    long DurationMs,
    long SavedMs,
    string? CacheSource,
    List<string> DependsOn,
    List<InputFileSummary>? Inputs,
    List<OutputFileSummary>? Outputs,
    SortedDictionary<string, string>? Parameters,
    SortedDictionary<string, double>? Metrics);

/// <summary>
/// A file the key hashed: project-relative path, kind (<c>input</c>, <c>inputIdentity</c>, <c>code</c>,
/// <c>fileDependency</c>, <c>sourceDependency</c>) and hash (32 hex digits of XxHash128; for <c>inputIdentity</c>, of
/// the file's identity rather than its content).
/// </summary>
public sealed record InputFileSummary(string Path, string Kind, string Hash);

/// <summary>An output file of the step's entry: project-relative path, content hash, size in bytes.</summary>
public sealed record OutputFileSummary(string Path, string Hash, long Size);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = true)]
[JsonSerializable(typeof(RunSummaryDocument))]
internal sealed partial class ReportJson : JsonSerializerContext
{
    /// <summary>
    /// Escapes only what JSON requires: the file is read by tools, never embedded in HTML, so a reason like
    /// <c>0.002 -> 0.0001</c> stays readable instead of becoming <c>\u003E</c>.
    /// </summary>
    public static ReportJson Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
