using System.Globalization;
using System.Text.Json;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// Reads a step's <c>Metrics</c> files as DVC reads <c>metrics</c>: each a flat JSON object of numbers
/// (<c>{"accuracy": 0.9667, "loss": 0.12}</c>). A file that is missing, too big, not JSON or not an object, or a
/// value that is not a number, costs only those values: warning MLP2020 names the step and the file, the numbers
/// that could be read are kept, and the build goes on (a metric is a record, never a reason to fail).
/// </summary>
public static class StepMetrics
{
    /// <summary>
    /// A metrics file larger than this is not read (warning MLP2020): a flat object of numbers is a few hundred bytes,
    /// and a run must not load a mistaken data file into memory to record it.
    /// </summary>
    public const long MaxFileBytes = 1024 * 1024;

    /// <summary>
    /// The values of every <see cref="StepDefinition.Metrics"/> file of <paramref name="step"/> as they are on disk now,
    /// by metric name (the JSON property name; a name given by two files keeps the first file's value, with a
    /// warning). Null when the step declares no metrics; each problem becomes one MLP2020 warning in <paramref name="warnings"/>.
    /// </summary>
    public static SortedDictionary<string, double>? Read(string projectDirectory, StepDefinition step, List<PipelineDiagnostic> warnings)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(warnings);
        if (step.Metrics.Count == 0)
        {
            return null;
        }

        var values = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var file in step.Metrics)
        {
            var problem = ReadFile(ProjectPath.ToFull(projectDirectory, file), values);
            if (problem is not null)
            {
                warnings.Add(new PipelineDiagnostic(ErrorCodes.MetricsUnreadable, step.Name,
                    $"Metrics file '{file}' of step '{step.Name}' {problem}. A metrics file holds a flat JSON object of numbers, such as {{\"accuracy\": 0.97}}; the numbers that could be read are recorded."));
            }
        }

        return values;
    }

    /// <summary>Adds the numbers of one file to <paramref name="values"/>; returns what was wrong with it, or null.</summary>
    private static string? ReadFile(string path, SortedDictionary<string, double> values)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return "does not exist";
            }

            if (info.Length > MaxFileBytes)
            {
                return string.Create(CultureInfo.InvariantCulture, $"is larger than {MaxFileBytes} bytes, so it was not read");
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"could not be read ({e.Message})";
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            return $"is not valid JSON ({e.Message})";
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return $"is a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object";
            }

            var skipped = new List<string>();
            var duplicated = new List<string>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetDouble(out var number) || !double.IsFinite(number))
                {
                    skipped.Add(property.Name);
                }
                else if (!values.TryAdd(property.Name, number))
                {
                    duplicated.Add(property.Name);
                }
            }

            var problems = new List<string>();
            if (skipped.Count > 0)
            {
                problems.Add($"holds values that are not numbers ({string.Join(", ", skipped.Select(n => $"'{n}'"))}; nested objects are not read: keep the object flat), which are not recorded");
            }

            if (duplicated.Count > 0)
            {
                problems.Add($"gives {string.Join(", ", duplicated.Select(n => $"'{n}'"))}, which another metrics file of the step gave first; that value is kept");
            }

            return problems.Count == 0 ? null : string.Join("; ", problems);
        }
    }
}
