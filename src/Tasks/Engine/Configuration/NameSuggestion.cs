namespace MLPipelines.Engine.Configuration;

/// <summary>
/// Finds the name a typo meant (<c>Ouputs</c> for <c>Outputs</c>), for the messages of MLP1080, MLP1081 and MLP1082:
/// MSBuild accepts any metadata or property name, so a misspelt one is otherwise just a custom one that changes nothing.
/// </summary>
public static class NameSuggestion
{
    /// <summary>
    /// MSBuild's well-known item metadata: never ours, never a typo of ours (<c>Directory</c>, <c>Extension</c>).
    /// <c>CloneCustomMetadata</c> leaves them out already; listed so that a caller handing all names over stays quiet.
    /// </summary>
    public static readonly IReadOnlySet<string> WellKnownMetadata = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "FullPath", "RootDir", "Filename", "Extension", "RelativeDir", "Directory", "RecursiveDir", "Identity",
        "ModifiedTime", "CreatedTime", "AccessedTime", "DefiningProjectFullPath", "DefiningProjectDirectory",
        "DefiningProjectName", "DefiningProjectExtension",
    };

    /// <summary>
    /// The one of <paramref name="candidates"/> that <paramref name="name"/> is a likely typo of, or null: equal but
    /// for case is not a typo (MSBuild metadata names ignore case); one plural <c>s</c> more or less is
    /// (<c>Input</c>, <c>Outputs</c>); else a case-insensitive edit distance of at most 2 (at most 1 for a name of 4
    /// letters or fewer, so that a short custom name such as <c>Cmd</c> is not taken for <c>Code</c>). The nearest
    /// wins; a tie between two different names suggests neither, since either could be meant.
    /// </summary>
    public static string? Closest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        var tie = false;
        foreach (var candidate in candidates.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (candidate.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            var distance = IsPlural(name, candidate) || IsPlural(candidate, name) ? 1 : Distance(name, candidate);
            var limit = Math.Min(name.Length, candidate.Length) <= 4 ? 1 : 2;
            if (distance > limit)
            {
                continue;
            }

            if (distance < bestDistance)
            {
                (best, bestDistance, tie) = (candidate, distance, false);
            }
            else if (distance == bestDistance)
            {
                tie = true;
            }
        }

        return tie ? null : best;
    }

    /// <summary>
    /// For each metadata name of an item that is not one of <paramref name="ours"/> (nor MSBuild's own) but close to one
    /// of them, the name meant: what MLP1081 reports. Any other custom metadata is the project's business and stays silent.
    /// </summary>
    public static IEnumerable<(string Given, string Meant)> MisspeltMetadata(IEnumerable<string> given, IReadOnlyList<string> ours) =>
        given.Where(g => !WellKnownMetadata.Contains(g) && !ours.Contains(g, StringComparer.OrdinalIgnoreCase))
            .Select(g => (Given: g, Meant: Closest(g, ours)))
            .Where(p => p.Meant is not null)
            .Select(p => (p.Given, p.Meant!));

    private static bool IsPlural(string name, string singular) =>
        name.Length == singular.Length + 1 && name.EndsWith('s') && name.StartsWith(singular, StringComparison.OrdinalIgnoreCase);

    /// <summary>Optimal string alignment distance, ignoring case: insert, delete, replace, or swap two neighbours.</summary>
    public static int Distance(string a, string b)
    {
        a = a.ToUpperInvariant();
        b = b.ToUpperInvariant();
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
