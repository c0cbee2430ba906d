using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Store;

/// <summary>A step's outputs as stored: files (as objects), every directory, and symbolic links.</summary>
public sealed record CapturedOutputs(IReadOnlyList<ManifestFile> Files, IReadOnlyList<string> Directories, IReadOnlyList<ManifestLink> Links);

/// <summary>
/// An output that cannot be stored faithfully: a symbolic link whose target leaves the project (restoring it on
/// another checkout or machine would point at something the cache does not hold), or a pipe, socket or device. The
/// step's result is not stored.
/// </summary>
public sealed class UncacheableOutputException(string path, string reason, string advice) : Exception($"Output '{path}' {reason}.")
{
    /// <summary>The project-relative path of the output that cannot be stored.</summary>
    public string Path { get; } = path;

    /// <summary>What the user can do, as a sentence: it differs for a link and for a pipe.</summary>
    public string Advice { get; } = advice;
}

/// <summary>
/// Reads what a step wrote into its declared outputs and puts it in the store: every file's content into
/// <c>objects/</c> (hashed on the way: one read per file), the directory shape (empty folders included) and symbolic
/// links as links. The counterpart of <see cref="OutputRestorer"/>, which makes the outputs exactly this again.
/// </summary>
public static class OutputCapture
{
    /// <summary>Unix permission bits kept in a manifest: never setuid, setgid or sticky (a row must not grant them).</summary>
    public const int PermissionMask = 0x1FF; // 0777

    /// <summary>
    /// Captures <paramref name="outputs"/> (project-relative declared outputs; a trailing <c>/</c> marks a
    /// directory). <paramref name="excluded"/> is a project-relative folder never captured (the store itself, when it
    /// lies inside an output folder). A file just written is racy (git's rule), so its hash is not remembered as a
    /// stamp: a downstream key reads it once more.
    /// </summary>
    /// <exception cref="UncacheableOutputException">A symbolic link among the outputs points outside the project.</exception>
    /// <exception cref="IOException">A file could not be read or stored.</exception>
    public static CapturedOutputs Capture(
        string projectDirectory,
        IEnumerable<string> outputs,
        ObjectStore objects,
        string? excluded = null) =>
        Read(projectDirectory, outputs, objects.Add, excluded);

    /// <summary>
    /// The same walk as <see cref="Capture"/>, with <paramref name="content"/> giving each file's hash and size: the
    /// store keeps the file (<see cref="ObjectStore.Add"/>), or a caller only hashes it, for a digest of outputs that
    /// were not stored. One walk, so both agree on what the outputs are.
    /// </summary>
    /// <exception cref="UncacheableOutputException">A symbolic link leads out of the project, or a file is not a regular file.</exception>
    public static CapturedOutputs Read(
        string projectDirectory,
        IEnumerable<string> outputs,
        Func<string, (string Hash, long Size)> content,
        string? excluded = null)
    {
        var files = new List<ManifestFile>();
        var directories = new List<string>();
        var links = new List<ManifestLink>();
        var seen = new HashSet<string>(ProjectPath.PathComparison == StringComparison.Ordinal ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase);
        foreach (var output in outputs)
        {
            foreach (var node in OutputTree.Walk(projectDirectory, output))
            {
                if (!seen.Add(node.Path) || (excluded is not null && ProjectPath.IsUnder(node.Path, excluded)))
                {
                    continue;
                }

                switch (node.Kind)
                {
                    case OutputNodeKind.Directory:
                        directories.Add(node.Path);
                        break;
                    case OutputNodeKind.Link:
                        links.Add(new ManifestLink(node.Path, StorableTarget(projectDirectory, node)));
                        break;
                    default:
                        if (FileIdentity.Of(node.FullPath) is null)
                        {
                            // Opening a FIFO would wait for a writer forever; a socket or device has no content to keep.
                            throw new UncacheableOutputException(node.Path, "is not a regular file (a pipe, socket or device)",
                                "Have the step write a regular file there, or remove the pipe or socket before it ends.");
                        }

                        var (hash, size) = content(node.FullPath);
                        var mode = OperatingSystem.IsWindows() ? 0 : (int)File.GetUnixFileMode(node.FullPath) & PermissionMask;
                        files.Add(new ManifestFile(node.Path, hash, size, mode));
                        break;
                }
            }
        }

        return new CapturedOutputs(files, directories, links);
    }

    /// <summary>
    /// The target to store for a link: relative targets as they are; an absolute target inside the project made
    /// relative to the link's folder, so a moved checkout restores a working link. A target outside the project
    /// cannot be restored faithfully elsewhere and makes the result uncacheable. "Outside" is judged where the link
    /// really leads, every link on the way followed, not by its text (<see cref="PhysicalPath"/>).
    /// </summary>
    private static string StorableTarget(string projectDirectory, OutputNode link)
    {
        var target = new FileInfo(link.FullPath).LinkTarget!;
        var folder = Path.GetDirectoryName(link.FullPath)!;
        var resolved = Path.GetFullPath(Path.Combine(folder, target));
        if (!ProjectPath.TryNormalize(projectDirectory, resolved, out _) || !PhysicalPath.LeadsInside(link.FullPath, projectDirectory))
        {
            throw new UncacheableOutputException(link.Path, $"is a symbolic link to '{target}', outside the project",
                "Make the link relative to a path inside the project, or copy the file.");
        }

        return Path.IsPathRooted(target) ? Path.GetRelativePath(folder, resolved).Replace('\\', '/') : target;
    }
}
