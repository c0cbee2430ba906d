using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Store;

/// <summary>What a path among a step's outputs is on disk, seen without following symbolic links.</summary>
public enum OutputNodeKind
{
    File,
    Directory,
    Link,
}

/// <summary>One path below a declared output: project-relative (directories end in <c>/</c>), absolute, and its kind.</summary>
public readonly record struct OutputNode(string Path, string FullPath, OutputNodeKind Kind);

/// <summary>
/// Reads the current shape of a step's declared outputs. Symbolic links are reported as links and never followed,
/// so a link inside an output folder that points elsewhere (even outside the project) is never walked into, copied
/// from or deleted through: only the link itself belongs to the step.
/// </summary>
public static class OutputTree
{
    /// <summary>
    /// The kind of <paramref name="fullPath"/> itself (a link is a link, whatever it points to, dangling included);
    /// null when nothing is there.
    /// </summary>
    public static OutputNodeKind? KindOf(string fullPath)
    {
        var info = new FileInfo(fullPath);
        if (info.LinkTarget is not null)
        {
            return OutputNodeKind.Link;
        }

        // FileInfo.Exists is false for a folder: the common case (a file) costs one stat after the readlink.
        if (info.Exists)
        {
            return OutputNodeKind.File;
        }

        return Directory.Exists(fullPath) ? OutputNodeKind.Directory : null;
    }

    /// <summary>
    /// Every node of one declared output, the output itself first: a file or link gives one node; a directory gives
    /// itself and everything below it (depth first, sorted by ordinal name), not entering linked directories.
    /// Nothing when the output does not exist.
    /// </summary>
    public static IEnumerable<OutputNode> Walk(string projectDirectory, string declared)
    {
        var relative = declared.TrimEnd('/');
        var full = ProjectPath.ToFull(projectDirectory, relative);
        var kind = KindOf(full);
        if (kind is null)
        {
            yield break;
        }

        if (kind != OutputNodeKind.Directory)
        {
            yield return new OutputNode(relative, full, kind.Value);
            yield break;
        }

        yield return new OutputNode(relative.Length == 0 ? "" : relative + "/", full, OutputNodeKind.Directory);
        foreach (var node in Below(full, relative))
        {
            yield return node;
        }
    }

    private static IEnumerable<OutputNode> Below(string fullDirectory, string relativeDirectory)
    {
        // Not recursive on purpose: .NET already skips linked directories, but walking by hand makes the rule ours.
        var children = new DirectoryInfo(fullDirectory)
            .EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false })
            .OrderBy(i => i.Name, StringComparer.Ordinal);
        foreach (var child in children)
        {
            var relative = relativeDirectory.Length == 0 ? child.Name : relativeDirectory + "/" + child.Name;
            if (child.LinkTarget is not null)
            {
                yield return new OutputNode(relative, child.FullName, OutputNodeKind.Link);
            }
            else if (child is DirectoryInfo)
            {
                yield return new OutputNode(relative + "/", child.FullName, OutputNodeKind.Directory);
                foreach (var node in Below(child.FullName, relative))
                {
                    yield return node;
                }
            }
            else
            {
                yield return new OutputNode(relative, child.FullName, OutputNodeKind.File);
            }
        }
    }
}
