namespace MLPipelines.Engine.Paths;

/// <summary>
/// Where a path really leads once every symbolic link on the way is followed, as the kernel resolves it (POSIX
/// path resolution: a <c>..</c> after a link climbs from the link's target, not from the link's folder). Text-only
/// normalisation is fooled by chains: with <c>out/sub -&gt; ..</c>, the link <c>out/l -&gt; sub/..</c> reads as
/// <c>out</c> but leads to the project's parent. Components that do not exist are taken as written, so a link to a
/// file not created yet still resolves.
/// </summary>
public static class PhysicalPath
{
    // Linux's own limit on links followed in one resolution (MAXSYMLINKS); past it the kernel says ELOOP.
    private const int MaxLinks = 40;

    /// <summary>
    /// The absolute path <paramref name="fullPath"/> leads to, links followed; null for a loop of links. On Windows,
    /// where links need privileges and resolve differently, the path is normalised as text only.
    /// </summary>
    public static string? Resolve(string fullPath)
    {
        if (OperatingSystem.IsWindows())
        {
            return Path.GetFullPath(fullPath);
        }

        var pending = new Stack<string>(Split(fullPath).Reverse());
        var current = "/";
        var links = 0;
        while (pending.TryPop(out var part))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }

            var next = Path.Join(current, part);
            string? target;
            try
            {
                target = new FileInfo(next).LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                target = null;
            }

            if (target is null)
            {
                current = next;
                continue;
            }

            if (++links > MaxLinks)
            {
                return null;
            }

            foreach (var segment in Split(target).Reverse())
            {
                pending.Push(segment);
            }

            if (Path.IsPathRooted(target))
            {
                current = "/";
            }
        }

        return current;
    }

    /// <summary>True when <paramref name="fullPath"/>, links followed, is <paramref name="directory"/> or lies below it (both resolved).</summary>
    public static bool LeadsInside(string fullPath, string directory) =>
        Resolve(fullPath) is { } resolved && Resolve(directory) is { } root &&
        ProjectPath.IsUnder(resolved.Replace('\\', '/'), root.Replace('\\', '/'));

    private static string[] Split(string path) => path.Replace('\\', '/').Split('/');
}
