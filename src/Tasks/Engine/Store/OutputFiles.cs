using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Store;

/// <summary>
/// The files a step's declared outputs hold on disk now, for a build to use as items (<c>@(PipelineOutput)</c>): a
/// declared file gives itself, a declared directory every file below it. Walked by <see cref="OutputTree"/>, so the
/// rules are the store's: linked directories are not entered, and the store's own folder is left out when it lies
/// inside an output folder.
/// </summary>
public static class OutputFiles
{
    /// <summary>
    /// Absolute paths of the regular files (and symbolic links to files) below <paramref name="outputs"/>, each once,
    /// in declaration order and, within a directory, by ordinal name. Directories, links to directories and dangling
    /// links are not files, so they are left out; an output that does not exist gives nothing.
    /// </summary>
    /// <param name="projectDirectory">Absolute project directory the outputs are relative to.</param>
    /// <param name="outputs">Project-relative declared outputs (a trailing <c>/</c> marks a directory).</param>
    /// <param name="excluded">Project-relative folder never listed (the store, when it lies inside an output folder).</param>
    /// <exception cref="IOException">A directory below an output could not be read.</exception>
    public static IReadOnlyList<string> List(string projectDirectory, IEnumerable<string> outputs, string? excluded = null)
    {
        var files = new List<string>();
        var seen = new HashSet<string>(ProjectPath.PathComparison == StringComparison.Ordinal ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase);
        foreach (var output in outputs)
        {
            foreach (var node in OutputTree.Walk(projectDirectory, output))
            {
                if (excluded is not null && ProjectPath.IsUnder(node.Path, excluded))
                {
                    continue;
                }

                // A link counts when its final target is a file: what MSBuild would copy or embed. (File.Exists is
                // true for a dangling link too, and FileInfo.Exists is false for a folder.)
                var isFile = node.Kind == OutputNodeKind.File || (node.Kind == OutputNodeKind.Link && LeadsToFile(node.FullPath));
                if (isFile && seen.Add(node.Path))
                {
                    files.Add(node.FullPath);
                }
            }
        }

        return files;
    }

    private static bool LeadsToFile(string link)
    {
        try
        {
            return new FileInfo(link).ResolveLinkTarget(returnFinalTarget: true) is FileInfo { Exists: true };
        }
        catch (IOException)
        {
            // A cycle of links (ELOOP) leads nowhere: not a file to hand to the build.
            return false;
        }
    }
}
