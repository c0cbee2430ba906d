namespace MLPipelines.Engine.Paths;

/// <summary>Expands declared paths (files, directories, globs) into the files they stand for right now.</summary>
public static class InputFiles
{
    /// <summary>
    /// Files of one declared path, sorted, in the path's own form (project-relative, or absolute when the user
    /// pointed outside the project). A file or directory that does not exist is reported through
    /// <paramref name="missing"/> (so is a path declared as a directory, <c>raw/</c>, that is a file); an existing
    /// directory with no file in it, or a glob that matches nothing, is simply empty (the key calculator warns of the
    /// glob).
    /// </summary>
    /// <param name="virtualFiles">
    /// Paths known to exist once earlier steps are restored (a plan's view), matched too. One ending in <c>/</c> is a
    /// restored directory, maybe empty: it is no file, but it and the directories above it exist.
    /// </param>
    public static IReadOnlyList<string> Expand(string projectDirectory, string declared, out bool missing, IEnumerable<string>? virtualFiles = null)
    {
        var files = ExpandOnDisk(projectDirectory, declared, out missing);
        if (virtualFiles is null)
        {
            return files;
        }

        var glob = ProjectPath.IsGlob(declared) ? new Glob(declared) : null;
        var matched = new List<string>();
        foreach (var path in virtualFiles)
        {
            if (ProjectPath.IsDirectory(path))
            {
                missing &= glob is not null || !ProjectPath.IsUnder(path, declared);
            }
            else if (glob?.IsMatch(path) ?? ProjectPath.IsUnder(path, declared))
            {
                matched.Add(path);
            }
        }

        if (matched.Count == 0)
        {
            return files;
        }

        missing = false;
        return files.Union(matched, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    private static List<string> ExpandOnDisk(string projectDirectory, string declared, out bool missing)
    {
        missing = false;
        if (ProjectPath.IsGlob(declared))
        {
            return new Glob(declared).EnumerateFiles(projectDirectory).ToList();
        }

        var full = ProjectPath.ToFull(projectDirectory, declared);
        if (Directory.Exists(full))
        {
            var prefix = declared.TrimEnd('/');
            return Directory.EnumerateFiles(full, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Select(f => (prefix.Length == 0 ? "" : prefix + "/") + Path.GetRelativePath(full, f).Replace('\\', '/'))
                .Order(StringComparer.Ordinal)
                .ToList();
        }

        if (File.Exists(full) && !ProjectPath.IsDirectory(declared))
        {
            return [declared];
        }

        // A declared directory that does not exist is as wrong as a missing file: hashing nothing would hide it.
        missing = true;
        return [];
    }
}
