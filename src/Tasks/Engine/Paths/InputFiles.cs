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
    /// <param name="skippedFolder">
    /// An absolute folder never entered, however it is reached (directly, or through a link to it or to a folder
    /// above it): the store, whose own files change while a build runs and are never a step's input.
    /// </param>
    /// <param name="removedPaths">
    /// Paths on disk that restoring earlier steps removes (a plan's view, <c>RestorePreview.Removed</c>; a folder with
    /// everything below it): not matched, as the run will not find them. What the restore writes back comes in
    /// through <paramref name="virtualFiles"/>.
    /// </param>
    public static IReadOnlyList<string> Expand(string projectDirectory, string declared, out bool missing, IEnumerable<string>? virtualFiles = null, string? skippedFolder = null,
        IReadOnlyCollection<string>? removedPaths = null)
    {
        var files = ExpandOnDisk(projectDirectory, declared, out missing, skippedFolder);
        if (removedPaths is { Count: > 0 })
        {
            if (!ProjectPath.IsGlob(declared) && IsRemoved(declared, removedPaths))
            {
                // The declared path itself goes: missing, unless the restore writes it back (below).
                files = [];
                missing = true;
            }
            else
            {
                files = files.Where(f => !IsRemoved(f, removedPaths)).ToList();
            }
        }

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

    private static bool IsRemoved(string path, IReadOnlyCollection<string> removedPaths) =>
        removedPaths.Any(removed => ProjectPath.IsUnder(path, removed));

    private static List<string> ExpandOnDisk(string projectDirectory, string declared, out bool missing, string? skippedFolder)
    {
        missing = false;
        if (ProjectPath.IsGlob(declared))
        {
            return new Glob(declared).EnumerateFiles(projectDirectory, skippedFolder).ToList();
        }

        var full = ProjectPath.ToFull(projectDirectory, declared);
        if (Directory.Exists(full))
        {
            var prefix = declared.TrimEnd('/');
            return FilesBelow(full, skippedFolder)
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

    /// <summary>
    /// Every non-folder entry below <paramref name="fullDirectory"/> (absolute paths, unsorted): files, links to files,
    /// and whatever else is there (a dangling link or a pipe, which hashing then reports as MLP2005). Links to folders
    /// are followed, since data sets are often linked in, but each real folder is entered once: a link back to a
    /// folder above (<c>data/loop -&gt; .</c>) would otherwise repeat the tree until the path is too long, as
    /// .NET's own recursive enumeration does.
    /// </summary>
    /// <param name="skippedFolder">An absolute folder never entered, judged by where it and each folder really lead.</param>
    public static IEnumerable<string> FilesBelow(string fullDirectory, string? skippedFolder = null)
    {
        var visited = new HashSet<string>(ProjectPath.PathComparison == StringComparison.Ordinal ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase);
        if (skippedFolder is not null)
        {
            // Marked as visited: then neither its own path nor a link leading to it is ever entered.
            visited.Add(PhysicalPath.Resolve(Path.TrimEndingDirectorySeparator(skippedFolder)) ?? Path.TrimEndingDirectorySeparator(skippedFolder));
        }

        var pending = new Stack<(string Path, string Physical)>();
        pending.Push((fullDirectory, PhysicalPath.Resolve(fullDirectory) ?? fullDirectory));
        while (pending.TryPop(out var folder))
        {
            if (!visited.Add(folder.Physical))
            {
                continue;
            }

            foreach (var entry in new DirectoryInfo(folder.Path).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0 }))
            {
                if (entry.LinkTarget is null)
                {
                    if (entry is DirectoryInfo)
                    {
                        pending.Push((entry.FullName, Path.Join(folder.Physical, entry.Name)));
                    }
                    else
                    {
                        yield return entry.FullName;
                    }
                }
                else if (Directory.Exists(entry.FullName) && PhysicalPath.Resolve(entry.FullName) is { } physical)
                {
                    pending.Push((entry.FullName, physical));
                }
                else
                {
                    yield return entry.FullName;
                }
            }
        }
    }
}
