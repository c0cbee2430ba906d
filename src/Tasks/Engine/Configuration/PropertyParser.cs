using System.Globalization;

namespace MLPipelines.Engine.Configuration;

/// <summary>Parses the pipeline properties (SPEC "Properties"); a bad value is an MLP1014 error naming the property.</summary>
public static class PropertyParser
{
    public static bool? ParseBool(string? text, string property, List<PipelineDiagnostic> diagnostics)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (bool.TryParse(text.Trim(), out var value))
        {
            return value;
        }

        diagnostics.Add(new(ErrorCodes.InvalidProperty, null, $"Property {property}='{text}' is not valid: use true or false."));
        return null;
    }

    /// <summary>A count (<c>PipelineMaxParallelism</c>, <c>PipelineRunHistoryLimit</c>, <c>PipelineRunsLimit</c>): 1 or more; a bad value is MLP1014.</summary>
    public static int? ParsePositiveInt(string? text, string property, List<PipelineDiagnostic> diagnostics)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        // Digits only, as the number of a size or duration (Quantity): no sign, no group separator, no fraction.
        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0)
        {
            return value;
        }

        diagnostics.Add(new(ErrorCodes.InvalidProperty, null, $"Property {property}='{StepParser.Shown(text)}' is not valid: give a whole number of 1 or more (digits only: 4, 1000)."));
        return null;
    }

    /// <summary>
    /// A duration (<see cref="Quantity.TryParseDuration"/>: <c>86400</c>, <c>90m</c>, <c>7d</c>, <c>28.00:00:00</c>);
    /// positive, or with <paramref name="allowZero"/> zero too. A bad value is MLP1014 listing the accepted forms.
    /// </summary>
    public static TimeSpan? ParseDuration(string? text, string property, List<PipelineDiagnostic> diagnostics, bool allowZero = false)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (Quantity.TryParseDuration(text, allowZero, out var value))
        {
            return value;
        }

        diagnostics.Add(new(ErrorCodes.InvalidProperty, null,
            $"Property {property}='{StepParser.Shown(text)}' is not valid: give {(allowZero ? "a duration (0 or more)" : "a positive duration")}: {Quantity.DurationForms}."));
        return null;
    }

    /// <summary>A size in bytes (<see cref="Quantity.TryParseSize"/>: <c>1048576</c>, <c>500MB</c>, <c>1.5G</c>); a bad value is MLP1014 listing the forms.</summary>
    public static long? ParseSize(string? text, string property, List<PipelineDiagnostic> diagnostics)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (Quantity.TryParseSize(text, out var bytes))
        {
            return bytes;
        }

        diagnostics.Add(new(ErrorCodes.InvalidProperty, null, $"Property {property}='{StepParser.Shown(text)}' is not valid: give {Quantity.SizeForms}."));
        return null;
    }
}
