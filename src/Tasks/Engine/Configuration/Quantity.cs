using System.Globalization;
using System.Text.RegularExpressions;

namespace MLPipelines.Engine.Configuration;

/// <summary>
/// The one parser of sizes and durations, for every property and metadata that takes one (<c>PipelineCacheMaxSize</c>;
/// <c>PipelineCacheMaxAge</c>, <c>PipelineLockTimeout</c>, <c>ExpiresAfter</c>). Units are case-insensitive, a
/// number may have decimals (<c>1.5G</c>), and space between number and unit is allowed. No sign, no exponent.
/// </summary>
public static partial class Quantity
{
    /// <summary>The size forms, as error messages and the README list them.</summary>
    public const string SizeForms =
        "bytes (1048576), or a number with a unit: B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB, P/PB/PiB (1024-based: 1K = 1024 bytes), e.g. 500MB, 1.5G";

    /// <summary>The duration forms, as error messages and the README list them.</summary>
    public const string DurationForms =
        "seconds (3600), a number with a unit: ms, s, m/min, h, d, w (90m, 1.5h, 7d), or a TimeSpan (1.00:00:00)";

    /// <summary>
    /// A size in bytes: a bare number is bytes; every unit is a power of 1024, whichever spelling (<c>K</c>, <c>KB</c>
    /// and <c>KiB</c> all mean 1024 bytes), as Docker's <c>--memory</c> and the JVM's <c>-Xmx</c> read them, so a
    /// limit means the same whatever spelling one is used to. Fractions of a byte are dropped. Zero is a size.
    /// False when the text is not such a size or does not fit in a <see cref="long"/>.
    /// </summary>
    public static bool TryParseSize(string? text, out long bytes)
    {
        bytes = 0;
        if (!TryNumberAndUnit(text, out var number, out var unit))
        {
            return false;
        }

        int? power = unit switch
        {
            "" or "b" => 0,
            "k" or "kb" or "kib" => 1,
            "m" or "mb" or "mib" => 2,
            "g" or "gb" or "gib" => 3,
            "t" or "tb" or "tib" => 4,
            "p" or "pb" or "pib" => 5,
            _ => null,
        };
        if (power is null)
        {
            return false;
        }

        try
        {
            var value = number;
            for (var i = 0; i < power; i++)
            {
                value *= 1024m;
            }

            if (value > long.MaxValue)
            {
                return false;
            }

            bytes = (long)decimal.Truncate(value);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    /// <summary>
    /// A duration: a bare number is seconds; units <c>ms</c>, <c>s</c>, <c>m</c>/<c>min</c> (minutes: a month has no
    /// fixed length), <c>h</c>, <c>d</c>, <c>w</c>; or an invariant .NET TimeSpan with a colon (<c>28.00:00:00</c>,
    /// <c>00:30:00</c>). Positive, or with <paramref name="allowZero"/> zero too; never negative. False otherwise, and
    /// when it exceeds <see cref="TimeSpan.MaxValue"/>.
    /// </summary>
    public static bool TryParseDuration(string? text, bool allowZero, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        if (trimmed.Contains(':', StringComparison.Ordinal))
        {
            if (!TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out var span) || span < TimeSpan.Zero || (span == TimeSpan.Zero && !allowZero))
            {
                return false;
            }

            duration = span;
            return true;
        }

        if (!TryNumberAndUnit(trimmed, out var number, out var unit))
        {
            return false;
        }

        decimal? seconds = unit switch
        {
            "ms" => 0.001m,
            "" or "s" or "sec" => 1m,
            "m" or "min" => 60m,
            "h" => 3600m,
            "d" => 86400m,
            "w" => 7 * 86400m,
            _ => null,
        };
        if (seconds is null || (number == 0 && !allowZero))
        {
            return false;
        }

        try
        {
            var total = number * seconds.Value;
            // Whole ticks: TimeSpan.FromSeconds(double) would round 0.1 s through binary floating point.
            var ticks = decimal.Truncate(total * TimeSpan.TicksPerSecond);
            if (ticks > TimeSpan.MaxValue.Ticks || (ticks == 0 && !allowZero))
            {
                return false;
            }

            duration = TimeSpan.FromTicks((long)ticks);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    // Digits with an optional fraction, then an optional unit of letters; unit lower-cased.
    private static bool TryNumberAndUnit(string? text, out decimal number, out string unit)
    {
        number = 0;
        unit = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var match = NumberAndUnit().Match(text.Trim());
        if (!match.Success || !decimal.TryParse(match.Groups["number"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number))
        {
            return false;
        }

        unit = match.Groups["unit"].Value.ToLowerInvariant();
        return true;
    }

    [GeneratedRegex(@"^(?<number>[0-9]{1,28}(?:\.[0-9]{1,28})?|\.[0-9]{1,28})\s*(?<unit>[A-Za-z]{0,3})$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberAndUnit();
}
