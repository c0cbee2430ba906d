using System.Globalization;
using System.Text.RegularExpressions;

namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>One error or warning line of MSBuild's console output, in its canonical form
/// <c>origin(line,col): error CODE: message [project]</c>.</summary>
public sealed partial record BuildMessage(
    string Severity,
    string Code,
    string Message,
    string? File,
    int? Line,
    int? Column,
    string? Project)
{
    /// <summary>Parses a console line; null when it is not an error or warning.</summary>
    public static BuildMessage? TryParse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        Match match = CanonicalLine().Match(line);
        if (!match.Success)
        {
            return null;
        }

        // Without a code, only a located line ("file(3,5): error : …") is MSBuild's: "train: error: …" is step output.
        string origin = match.Groups["origin"].Value.Trim();
        if (!match.Groups["code"].Success && !origin.EndsWith(')'))
        {
            return null;
        }

        string? file = null;
        int? lineNumber = null;
        int? column = null;
        if (origin.Length > 0)
        {
            Match location = Origin().Match(origin);
            file = location.Groups["file"].Value;
            lineNumber = ParseNumber(location.Groups["line"]);
            column = ParseNumber(location.Groups["column"]);
        }

        return new BuildMessage(
            match.Groups["severity"].Value,
            match.Groups["code"].Value,
            match.Groups["message"].Value.Trim(),
            file,
            lineNumber,
            column,
            match.Groups["project"].Success ? match.Groups["project"].Value : null);
    }

    public override string ToString() =>
        $"{File}{(Line is null ? "" : $"({Line}{(Column is null ? "" : $",{Column}")})")}: {Severity} {Code}: {Message}";

    private static int? ParseNumber(Group group) =>
        group.Success ? int.Parse(group.Value, CultureInfo.InvariantCulture) : null;

    // The origin is optional ("error MSB1009: ..."), as are the code ("error : ...") and the trailing project.
    [GeneratedRegex(@"^\s*(?:(?<origin>[^\s].*?)\s*:\s*)?(?<severity>error|warning)\s*(?<code>[A-Za-z]+\d+)?\s*:\s*(?<message>.*?)(?:\s+\[(?<project>[^\[\]]+)\])?\s*$")]
    private static partial Regex CanonicalLine();

    [GeneratedRegex(@"^(?<file>.*?)(?:\((?<line>\d+)(?:,(?<column>\d+))?(?:[-,]\d+)*\))?$")]
    private static partial Regex Origin();
}
