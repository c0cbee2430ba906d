using System.Globalization;
using System.Text.Json;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// Reads a step's <c>Metrics</c> files as DVC reads <c>metrics</c>: each a flat JSON object of numbers
/// (<c>{"accuracy": 0.9667, "loss": 0.12}</c>). A file that is missing, too big, not JSON or not an object, or a
/// value that is not a number, costs only those values: warning MLP2020 names the step and the file and says what
/// was recorded from it, and the build goes on (a metric is a record, never a reason to fail).
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
    /// by metric name (the JSON property name). A name given twice in one file keeps its last value, as JSON parsers
    /// (Python's <c>json</c>, JavaScript's <c>JSON.parse</c>) and so the script that wrote it read it; a name given by
    /// two files keeps the first file's value (the files are read in the order <c>Metrics</c> lists them, and a later
    /// file does not override an earlier one). Both are warned. Null when the step declares no metrics; each problem
    /// becomes one MLP2020 warning in <paramref name="warnings"/>.
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
                    $"Metrics file '{file}' of step '{step.Name}' {problem}. A metrics file holds a flat JSON object of numbers, such as {{\"accuracy\": 0.97}}."));
            }
        }

        return values;
    }

    /// <summary>
    /// Adds the numbers of one file to <paramref name="values"/>; returns what was wrong with it and what that cost
    /// (each problem says what was, or was not, recorded), or null.
    /// </summary>
    private static string? ReadFile(string path, SortedDictionary<string, double> values)
    {
        const string nothing = "nothing is recorded from it";
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return $"does not exist, so {nothing}";
            }

            if (info.Length > MaxFileBytes)
            {
                return string.Create(CultureInfo.InvariantCulture, $"is larger than {MaxFileBytes} bytes, so it was not read and {nothing}");
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"could not be read ({e.Message}), so {nothing}";
        }

        // The file's values by name in the order first given; null for a value that is not a usable number. A name
        // given again replaces its value (the last wins, as JSON parsers read it).
        var read = new Dictionary<string, double?>(StringComparer.Ordinal);
        var order = new List<string>();
        var repeated = new List<string>();
        string? invalid = null;
        try
        {
            // Read token by token (not JsonDocument) so a file broken part way, say by a Python NaN, still gives
            // the numbers before the break, as the warning says. A UTF-8 byte order mark (PowerShell writes one) is
            // no part of the JSON.
            var json = bytes.AsSpan();
            if (json.StartsWith("\uFEFF"u8))
            {
                json = json[3..];
            }

            var reader = new Utf8JsonReader(json, isFinalBlock: true, state: default);
            if (!reader.Read())
            {
                throw new JsonException("the file is empty");
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                var kind = reader.TokenType switch
                {
                    JsonTokenType.EndArray => "array",
                    JsonTokenType.String => "string",
                    JsonTokenType.Number => "number",
                    JsonTokenType.True or JsonTokenType.False => "boolean",
                    _ => "null",
                };
                EnsureEnd(ref reader);
                return $"is a JSON {kind}, not an object, so {nothing}";
            }

            // A value counts once the token after it is read: a file cut off in the middle of a number
            // ({"accuracy": 0.9 of 0.95) must not record the part that was written.
            (string Name, double? Value)? pending = null;
            while (reader.Read())
            {
                if (pending is { } done)
                {
                    Keep(done.Name, done.Value, read, order, repeated);
                    pending = null;
                }

                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    break; // the object's end: the reader allows nothing else here
                }

                var name = reader.GetString()!;
                reader.Read();
                double? value = null;
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var number) && double.IsFinite(number))
                {
                    value = number;
                }
                else
                {
                    // A nested object or array is passed over whole (it must still be valid JSON).
                    reader.Skip();
                }

                pending = (name, value);
            }

            EnsureEnd(ref reader);
        }
        catch (JsonException e)
        {
            invalid = e.Message;
        }

        var recorded = new List<string>();
        var skipped = new List<string>();
        var otherFile = new List<string>();
        foreach (var name in order)
        {
            if (read[name] is not { } number)
            {
                skipped.Add(name);
            }
            else if (values.TryAdd(name, number))
            {
                recorded.Add(name);
            }
            else
            {
                otherFile.Add(name);
            }
        }

        var problems = new List<string>();
        if (invalid is not null)
        {
            problems.Add(recorded.Count == 0
                ? $"is not valid JSON ({invalid}), so {nothing}"
                : $"is not valid JSON ({invalid}); only the numbers before the error are recorded ({Names(recorded)})");
        }

        if (skipped.Count > 0)
        {
            problems.Add($"holds values that are not numbers ({Names(skipped)}; nested objects are not read: keep the object flat), which are not recorded");
        }

        if (repeated.Count > 0)
        {
            problems.Add($"gives {Names(repeated)} more than once; the last value in the file is the one read, as JSON parsers read it");
        }

        if (otherFile.Count > 0)
        {
            problems.Add($"gives {Names(otherFile)}, which an earlier metrics file of the step gave first; the earlier file's value is kept");
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>Records one property of a file: a name given again replaces its value (the last wins) and is noted.</summary>
    private static void Keep(string name, double? value, Dictionary<string, double?> read, List<string> order, List<string> repeated)
    {
        if (!read.ContainsKey(name))
        {
            order.Add(name);
        }
        else if (!repeated.Contains(name))
        {
            repeated.Add(name);
        }

        read[name] = value;
    }

    /// <summary>Throws when anything but white space follows the top-level value (<c>{"a": 1} x</c>, two objects).</summary>
    private static void EnsureEnd(ref Utf8JsonReader reader)
    {
        if (reader.Read())
        {
            throw new JsonException(string.Create(CultureInfo.InvariantCulture, $"more follows the top-level value at byte {reader.TokenStartIndex}"));
        }
    }

    private static string Names(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));
}
