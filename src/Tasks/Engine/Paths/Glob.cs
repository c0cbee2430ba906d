using System.Text;
using System.Text.RegularExpressions;

namespace MLPipelines.Engine.Paths;

/// <summary>
/// <c>*</c>, <c>?</c> and <c>**</c> patterns over project-relative paths. MSBuild leaves item metadata unexpanded,
/// so step inputs are matched here, against the files that exist when the step's key is computed.
/// </summary>
public sealed class Glob
{
    private readonly Regex _regex;

    public Glob(string pattern)
    {
        Pattern = pattern;
        BaseDirectory = FindBase(pattern);
        _regex = new Regex(ToRegex(pattern), RegexOptions.CultureInvariant |
            (ProjectPath.PathComparison == StringComparison.OrdinalIgnoreCase ? RegexOptions.IgnoreCase : RegexOptions.None));
    }

    public string Pattern { get; }

    /// <summary>The longest leading part without wildcards: where enumeration starts. Empty for the project root.</summary>
    public string BaseDirectory { get; }

    public bool IsMatch(string relativePath) => _regex.IsMatch(relativePath);

    /// <summary>Files under <paramref name="projectDirectory"/> matching the pattern, project-relative and sorted.</summary>
    /// <param name="skippedFolder">An absolute folder never entered (see <see cref="InputFiles.FilesBelow"/>).</param>
    public IEnumerable<string> EnumerateFiles(string projectDirectory, string? skippedFolder = null)
    {
        var root = ProjectPath.ToFull(projectDirectory, BaseDirectory);
        if (!Directory.Exists(root))
        {
            return [];
        }

        // A pattern that points outside the project matches absolute paths; one inside it, project-relative ones.
        var rooted = Path.IsPathRooted(Pattern);
        return InputFiles.FilesBelow(root, skippedFolder)
            .Select(f => rooted ? f.Replace('\\', '/') : ProjectPath.FromFull(projectDirectory, f))
            .Where(IsMatch)
            .Order(StringComparer.Ordinal);
    }

    private static string FindBase(string pattern)
    {
        var segments = pattern.Split('/');
        var fixedSegments = segments.TakeWhile(s => !ProjectPath.IsGlob(s)).ToList();
        if (fixedSegments.Count == segments.Length)
        {
            fixedSegments.RemoveAt(fixedSegments.Count - 1);
        }

        return string.Join('/', fixedSegments);
    }

    private static string ToRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                // "**/" matches zero or more whole directories; a trailing "**" matches everything below.
                var slash = i + 2 < pattern.Length && pattern[i + 2] == '/';
                sb.Append(slash ? "(?:.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else if (c == '*')
            {
                sb.Append("[^/]*");
            }
            else if (c == '?')
            {
                sb.Append("[^/]");
            }
            else
            {
                sb.Append(Regex.Escape(c.ToString()));
            }
        }

        return sb.Append('$').ToString();
    }
}
