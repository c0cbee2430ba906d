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

    public static int? ParsePositiveInt(string? text, string property, List<PipelineDiagnostic> diagnostics)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0)
        {
            return value;
        }

        diagnostics.Add(new(ErrorCodes.InvalidProperty, null, $"Property {property}='{text}' is not valid: give a whole number of 1 or more."));
        return null;
    }

    /// <summary>Positive seconds (<c>86400</c>) or a TimeSpan (<c>28.00:00:00</c>); with <paramref name="allowZero"/>, zero too.</summary>
    public static TimeSpan? ParseDuration(string? text, string property, List<PipelineDiagnostic> diagnostics, bool allowZero = false)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var trimmed = text.Trim();
        var value = StepParser.ParseDuration(trimmed) ?? (allowZero && IsZero(trimmed) ? TimeSpan.Zero : null);
        if (value is null)
        {
            diagnostics.Add(new(ErrorCodes.InvalidProperty, null, allowZero
                ? $"Property {property}='{text}' is not valid: give seconds (0 or more) or a TimeSpan (1.00:00:00)."
                : $"Property {property}='{text}' is not valid: give seconds (86400) or a TimeSpan (28.00:00:00)."));
        }

        return value;
    }

    private static bool IsZero(string text) =>
        (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds == 0) ||
        (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span == TimeSpan.Zero);

    /// <summary>Bytes, or a number with a 1024-based unit: <c>500MB</c>, <c>10GB</c>, <c>1.5TB</c>.</summary>
    public static long? ParseSize(string? text, string property, List<PipelineDiagnostic> diagnostics)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var trimmed = text.Trim().ToUpperInvariant();
        string[] units = ["TB", "GB", "MB", "KB", "B"];
        var unit = units.FirstOrDefault(u => trimmed.EndsWith(u, StringComparison.Ordinal));
        var number = unit is null ? trimmed : trimmed[..^unit.Length].Trim();
        var factor = unit switch
        {
            "KB" => 1L << 10,
            "MB" => 1L << 20,
            "GB" => 1L << 30,
            "TB" => 1L << 40,
            _ => 1L,
        };
        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && value * factor < long.MaxValue)
        {
            return (long)(value * factor);
        }

        diagnostics.Add(new(ErrorCodes.InvalidProperty, null, $"Property {property}='{text}' is not valid: give bytes or a size with a unit (500MB, 10GB)."));
        return null;
    }
}
