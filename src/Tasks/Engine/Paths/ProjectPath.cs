namespace MLPipelines.Engine.Paths;

/// <summary>
/// Project-relative paths with <c>/</c> separators: the only form paths take in keys, manifests and logs, which is
/// what makes keys survive a moved checkout. A trailing <c>/</c> marks a directory.
/// </summary>
public static class ProjectPath
{
    /// <summary>
    /// Normalises a user-written path against the project directory. Returns false when it leaves the project
    /// (then <paramref name="normalized"/> starts with <c>../</c>, or is absolute where no relative path exists).
    /// </summary>
    public static bool TryNormalize(string projectDirectory, string raw, out string normalized)
    {
        var text = raw.Trim().Replace('\\', '/');
        var isDirectory = text.EndsWith('/');
        var full = Path.GetFullPath(Path.Combine(projectDirectory, text.TrimEnd('/')));
        var relative = Path.GetRelativePath(projectDirectory, full).Replace('\\', '/');
        var outside = relative == ".." || relative.StartsWith("../", StringComparison.Ordinal) || Path.IsPathRooted(relative);
        if (outside)
        {
            // Still relative where possible ("../shared/data.csv"): a moved checkout keeps its keys.
            normalized = (Path.IsPathRooted(relative) ? full.Replace('\\', '/') : relative) + (isDirectory ? "/" : "");
            return false;
        }

        normalized = relative == "." ? "" : relative;
        if (isDirectory && normalized.Length > 0)
        {
            normalized += "/";
        }

        return true;
    }

    public static bool IsDirectory(string path) => path.EndsWith('/');

    public static bool IsGlob(string path) => path.AsSpan().IndexOfAny('*', '?') >= 0;

    /// <summary>Absolute OS path of a project-relative path.</summary>
    public static string ToFull(string projectDirectory, string path) =>
        Path.GetFullPath(Path.Combine(projectDirectory, path.TrimEnd('/')));

    /// <summary>Project-relative form of an absolute path known to be inside the project.</summary>
    public static string FromFull(string projectDirectory, string fullPath) =>
        Path.GetRelativePath(projectDirectory, fullPath).Replace('\\', '/');

    /// <summary>True when <paramref name="path"/> is <paramref name="directory"/> or lies below it.</summary>
    public static bool IsUnder(string path, string directory)
    {
        var dir = directory.TrimEnd('/');
        if (dir.Length == 0)
        {
            return true;
        }

        var p = path.TrimEnd('/');
        return p.Equals(dir, PathComparison) ||
               (p.Length > dir.Length && p.StartsWith(dir, PathComparison) && p[dir.Length] == '/');
    }

    /// <summary>True when one path equals, contains or lies inside the other.</summary>
    public static bool Overlaps(string a, string b) => IsUnder(a, b) || IsUnder(b, a);

    public static StringComparison PathComparison =>
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
}
