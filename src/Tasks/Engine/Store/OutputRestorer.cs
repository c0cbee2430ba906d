using System.Diagnostics;
using System.Globalization;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Store;

/// <summary>What <see cref="OutputRestorer.Restore"/> did: how many paths it placed, or why it could not.</summary>
public sealed record RestoreOutcome
{
    /// <summary>Files and links written or replaced (folders are not counted); 0 when everything was already in place.</summary>
    public int Placed { get; init; }

    /// <summary>Extra paths removed from the outputs because the entry does not hold them.</summary>
    public int Removed { get; init; }

    /// <summary>Set when an object is missing or its content no longer matches its name: the entry is damaged.</summary>
    public string? Damage { get; init; }

    /// <summary>With <see cref="Damage"/>: the object that is missing or altered.</summary>
    public string? DamagedObject { get; init; }

    /// <summary>Set when the project side failed (permissions, disk full, path too long): the entry is fine.</summary>
    public string? Failure { get; init; }

    public bool Succeeded => Damage is null && Failure is null;
}

/// <summary>
/// What <see cref="OutputRestorer.Restore"/> would change among a step's outputs, found without writing anything
/// (<see cref="OutputRestorer.Preview"/>, for <c>PlanPipeline</c>). Paths are project-relative with <c>/</c>
/// separators, a folder ending in <c>/</c>, in the order a restore meets them.
/// </summary>
public sealed record RestorePreview
{
    /// <summary>Paths of the entry that exist but differ: content, size, permission bits, a link's target, or their type.</summary>
    public IReadOnlyList<string> Edited { get; init; } = [];

    /// <summary>Paths of the entry that do not exist (a folder only when nothing listed lies below it).</summary>
    public IReadOnlyList<string> Deleted { get; init; } = [];

    /// <summary>Paths among the outputs that the entry does not hold: a restore removes them (a folder with everything below it).</summary>
    public IReadOnlyList<string> Extra { get; init; } = [];

    /// <summary>
    /// Every path a restore removes first: the <see cref="Extra"/> ones and those it replaces (a folder with everything
    /// below it). What lies on disk there now is gone after the restore, so a plan must not read it as a downstream
    /// step's input.
    /// </summary>
    public IReadOnlyList<string> Removed { get; init; } = [];

    /// <summary>As <see cref="RestoreOutcome.Damage"/>: the entry fails the store's checks, so the step would execute.</summary>
    public string? Damage { get; init; }

    /// <summary>As <see cref="RestoreOutcome.Failure"/>: the outputs could not be read (permissions, I/O).</summary>
    public string? Failure { get; init; }

    /// <summary>True when the outputs already are exactly the entry's: a restore writes nothing.</summary>
    public bool InPlace => Edited.Count == 0 && Deleted.Count == 0 && Extra.Count == 0;
}

/// <summary>
/// The one place that writes into a step's declared outputs (SPEC <c>Outputs</c>, <c>PersistOutputs</c>):
/// <list type="bullet">
/// <item>before a step executes, its outputs are removed (files deleted, directories emptied), so what is stored is
/// only what this run wrote (DVC removes outputs before a stage runs for the same reason);</item>
/// <item>on a hit, every declared output is made exactly the entry's: missing or different files placed, files the
/// entry does not hold removed, empty directories and symbolic links restored, a path whose type changed replaced.</item>
/// </list>
/// Restored files are copied out of <c>objects/</c> into a staging folder inside the store (same volume, verified
/// against their hash on the way) and only then renamed into place, so a damaged entry is found before any output is
/// touched and a crash never leaves a half-written or temporary file among the outputs. Symbolic links are never
/// followed: a link in an output folder is removed or replaced as a link, whatever it points to.
/// </summary>
public sealed partial class OutputRestorer
{
    // A staging folder whose build is gone is swept at the next run; one older than this is swept whatever its owner.
    private static readonly TimeSpan StagingGrace = TimeSpan.FromDays(1);

    private readonly string _projectDirectory;
    private readonly ObjectStore _objects;
    private readonly FileHasher _hasher;
    private readonly string? _excluded;
    private readonly Lock _stagingLock = new();
    private string? _staging;

    /// <param name="projectDirectory">Absolute project directory; every output path is relative to it.</param>
    /// <param name="objects">Where restored content comes from; its store folder holds the staging area.</param>
    /// <param name="hasher">Tells whether a file already in place holds the entry's content, by its stamp.</param>
    /// <param name="excluded">Project-relative folder never touched (the store, when it lies inside an output folder).</param>
    public OutputRestorer(string projectDirectory, ObjectStore objects, FileHasher hasher, string? excluded = null)
    {
        _projectDirectory = projectDirectory;
        _objects = objects;
        _hasher = hasher;
        _excluded = excluded;
    }

    /// <summary>
    /// Removes a step's declared outputs before it executes, as DVC does: a file, link or whole folder is deleted, so
    /// the step writes into what a fresh checkout has (nothing), and its result cannot depend on an earlier run's
    /// leftovers (an empty folder kept would turn <c>mv tmp out</c> into <c>out/tmp</c>). Links are deleted, never
    /// followed; the store, when it lies inside an output folder, is kept.
    /// </summary>
    /// <exception cref="IOException">An output could not be removed (permissions, a busy file).</exception>
    public void Clear(IEnumerable<string> outputs)
    {
        foreach (var output in outputs)
        {
            var full = ProjectPath.ToFull(_projectDirectory, output);
            if (OutputTree.KindOf(full) is not { } kind)
            {
                continue;
            }

            if (kind == OutputNodeKind.Directory && _excluded is not null && ProjectPath.IsUnder(_excluded, output))
            {
                // The store lies inside this output folder: empty the folder around it instead.
                foreach (var child in new DirectoryInfo(full).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0 }))
                {
                    if (!IsExcluded(ProjectPath.FromFull(_projectDirectory, child.FullName)))
                    {
                        Delete(child.FullName, child.LinkTarget is null && child is DirectoryInfo ? OutputNodeKind.Directory : OutputNodeKind.File);
                    }
                }

                continue;
            }

            Delete(full, kind);
        }
    }

    /// <summary>
    /// Makes the declared outputs exactly <paramref name="entry"/>'s. When everything is already in place (the common
    /// hit) nothing is written and <paramref name="beforeWriting"/> is not called; otherwise it is called once before
    /// the first object is read (to protect the objects from a concurrent collection; returning false abandons the
    /// restore with nothing changed).
    /// </summary>
    public RestoreOutcome Restore(CacheEntry entry, IReadOnlyList<string> outputs, Func<bool>? beforeWriting = null)
    {
        if (Validate(entry, outputs) is { } corrupt)
        {
            return new RestoreOutcome { Damage = corrupt };
        }

        RestorePlan plan;
        try
        {
            plan = Compare(entry, outputs);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new RestoreOutcome { Failure = e.Message };
        }

        if (plan.IsEmpty)
        {
            return new RestoreOutcome();
        }

        if (beforeWriting is not null && !beforeWriting())
        {
            return new RestoreOutcome { Failure = EntryGone };
        }

        var staging = Staging();
        try
        {
            // 1. Every object copied and verified first: a damaged entry is found before any output is touched.
            var staged = new List<(string Temp, ManifestFile File)>();
            foreach (var file in plan.Files)
            {
                var temp = _objects.StageCopy(file.Hash, staging);
                if (temp is null)
                {
                    return new RestoreOutcome { Damage = $"the stored object for {file.Path} is missing or altered", DamagedObject = file.Hash };
                }

                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(temp, (UnixFileMode)(file.Mode & OutputCapture.PermissionMask));
                }

                staged.Add((temp, file));
            }

            CrashPoint.Reach(CrashPoint.RestoreStaged);

            // 2. What the entry does not hold, or holds as another type, goes; 3. then folders, files and links.
            foreach (var node in plan.Remove)
            {
                Delete(node.FullPath, node.Kind);
            }

            foreach (var directory in plan.Directories)
            {
                Directory.CreateDirectory(ProjectPath.ToFull(_projectDirectory, directory));
            }

            foreach (var (temp, file) in staged)
            {
                var target = ProjectPath.ToFull(_projectDirectory, file.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(temp, target, overwrite: true);
                CrashPoint.Reach(CrashPoint.RestorePartial);
                if (FileIdentity.Of(target) is { } identity)
                {
                    _hasher.Remember(target, identity, file.Hash); // Trusted once it is past the racy window.
                }
            }

            foreach (var link in plan.Links)
            {
                var target = ProjectPath.ToFull(_projectDirectory, link.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.CreateSymbolicLink(target, link.Target);
            }

            // Only now can a chain of links be followed (out/l -> sub/.. with out/sub -> ..): one that leads out of
            // the project came from a tampered row, since capture never stores one. It goes, and the entry is damaged.
            foreach (var link in entry.Links)
            {
                var target = ProjectPath.ToFull(_projectDirectory, link.Path);
                if (!PhysicalPath.LeadsInside(target, _projectDirectory))
                {
                    File.Delete(target);
                    return new RestoreOutcome { Damage = $"its link '{link.Path}' leads out of the project" };
                }
            }

            return new RestoreOutcome { Placed = plan.Files.Count + plan.Links.Count, Removed = plan.Extras.Count };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new RestoreOutcome { Failure = e.Message };
        }
    }

    /// <summary>
    /// What <see cref="Restore"/> would do to the outputs, by the same checks and the same comparison, writing nothing:
    /// for a dry run (<c>PlanPipeline</c>) to say that a hit would restore edited or deleted outputs. A file to place
    /// whose object is missing or altered is damage, as the restore would find it: each object to place is read and
    /// checked against its name, as the restore's copy checks it (objects of outputs already in place are not read,
    /// nor by the restore).
    /// </summary>
    /// <param name="elsewhere">Objects the store lacks but the run will have fetched first (a remote hit's, checked by the remote cache).</param>
    public RestorePreview Preview(CacheEntry entry, IReadOnlyList<string> outputs, Func<string, bool>? elsewhere = null)
    {
        if (Validate(entry, outputs) is { } corrupt)
        {
            return new RestorePreview { Damage = corrupt };
        }

        RestorePlan plan;
        try
        {
            plan = Compare(entry, outputs);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new RestorePreview { Failure = e.Message };
        }

        if (plan.Files.DistinctBy(f => f.Hash).FirstOrDefault(f => _objects.Contains(f.Hash) ? !_objects.Verify(f.Hash) : elsewhere?.Invoke(f.Hash) != true) is { } lost)
        {
            return new RestorePreview { Damage = $"the stored object for {lost.Path} is missing or altered" };
        }

        var edited = new List<string>();
        var deleted = new List<string>();
        var placed = plan.Files.Select(f => f.Path).Concat(plan.Links.Select(l => l.Path)).ToList();
        foreach (var path in placed)
        {
            (OutputTree.KindOf(ProjectPath.ToFull(_projectDirectory, path)) is null ? deleted : edited).Add(path);
        }

        // A missing folder counts only when nothing listed lies below it (an empty folder of the entry), else its
        // files say it all.
        foreach (var directory in plan.Directories)
        {
            var bare = directory.TrimEnd('/');
            if (placed.Concat(plan.Directories).Any(p => p != directory && ProjectPath.IsUnder(p.TrimEnd('/'), bare)))
            {
                continue;
            }

            (OutputTree.KindOf(ProjectPath.ToFull(_projectDirectory, bare)) is null ? deleted : edited).Add(directory);
        }

        return new RestorePreview { Edited = edited, Deleted = deleted, Extra = plan.Extras, Removed = plan.Remove.Select(n => n.Path).ToList() };
    }

    /// <summary>
    /// This restorer's staging folder, <c>&lt;store&gt;/staging/&lt;pid&gt;-&lt;guid&gt;</c>: one per run, shared by its
    /// parallel restores (every copy has a name of its own), so a hit costs no folder of its own. The run deletes it
    /// with <see cref="DeleteStaging"/>; a run that died leaves it to <see cref="SweepStaging"/>.
    /// </summary>
    private string Staging()
    {
        lock (_stagingLock)
        {
            if (_staging is null)
            {
                var root = StagingRoot(_objects);
                if (OutputTree.KindOf(root) == OutputNodeKind.Link)
                {
                    File.Delete(root); // Ours by name: staging must stay inside the store, never lead elsewhere.
                }

                _staging = Path.Combine(root, string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}-{Guid.NewGuid():N}"));
            }

            return _staging;
        }
    }

    /// <summary>Deletes this run's staging folder (empty unless a restore failed half-way). Call once the run is over.</summary>
    public void DeleteStaging()
    {
        lock (_stagingLock)
        {
            if (_staging is not null)
            {
                TryDeleteDirectory(_staging);
                _staging = null;
            }
        }
    }

    /// <summary>What <see cref="Restore"/> says when the caller's <c>beforeWriting</c> refused (the entry is gone).</summary>
    public const string EntryGone = "the entry was removed by another build";

    /// <summary>
    /// Deletes staging folders left by builds that died mid-restore (their process is gone) or that are older than a
    /// day. Never touches the user's outputs: staging lives in the store.
    /// </summary>
    public static void SweepStaging(ObjectStore objects)
    {
        var root = StagingRoot(objects);
        if (OutputTree.KindOf(root) != OutputNodeKind.Directory)
        {
            return; // Nothing there, or a link: a sweep never follows one out of the store.
        }

        foreach (var folder in new DirectoryInfo(root).EnumerateDirectories())
        {
            if (folder.LinkTarget is not null || !StagingName().IsMatch(folder.Name))
            {
                continue; // Not a staging folder of ours (a shared PipelineCacheDir may hold anything).
            }

            var dash = folder.Name.IndexOf('-', StringComparison.Ordinal);
            var owner = dash > 0 && int.TryParse(folder.Name[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : -1;
            if (owner != Environment.ProcessId && (!IsAlive(owner) || DateTime.UtcNow - folder.CreationTimeUtc > StagingGrace))
            {
                TryDeleteDirectory(folder.FullName);
            }
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9]+-[0-9a-f]{32}$")]
    private static partial System.Text.RegularExpressions.Regex StagingName();

    private static string StagingRoot(ObjectStore objects) => Path.Combine(Path.GetDirectoryName(objects.Root)!, "staging");

    private static bool IsAlive(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <param name="Extras">The paths of <paramref name="Remove"/> the entry does not hold at all (not a changed file).</param>
    private sealed record RestorePlan(List<ManifestFile> Files, List<ManifestLink> Links, List<string> Directories, List<OutputNode> Remove, List<string> Extras)
    {
        public bool IsEmpty => Files.Count == 0 && Links.Count == 0 && Directories.Count == 0 && Remove.Count == 0;
    }

    /// <summary>Compares the outputs on disk with the entry: what to place, and what to remove first.</summary>
    private RestorePlan Compare(CacheEntry entry, IReadOnlyList<string> outputs)
    {
        var comparer = ProjectPath.PathComparison == StringComparison.Ordinal ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;
        var files = entry.Manifest.ToDictionary(f => f.Path, comparer);
        var links = entry.Links.ToDictionary(l => l.Path, comparer);
        var directories = entry.Directories.ToHashSet(comparer);
        var inPlace = new HashSet<string>(comparer);
        var remove = new List<OutputNode>();
        var extras = new List<string>();

        foreach (var output in outputs)
        {
            string? removedDirectory = null;
            foreach (var node in OutputTree.Walk(_projectDirectory, output))
            {
                if (removedDirectory is not null && ProjectPath.IsUnder(node.Path, removedDirectory))
                {
                    continue; // Goes with the folder above it.
                }

                if (IsExcluded(node.Path) || inPlace.Contains(node.Path))
                {
                    continue;
                }

                var matches = node.Kind switch
                {
                    OutputNodeKind.Directory => directories.Contains(node.Path),
                    OutputNodeKind.Link => links.TryGetValue(node.Path, out var link) && new FileInfo(node.FullPath).LinkTarget == link.Target,
                    _ => files.TryGetValue(node.Path, out var file) && HoldsContent(node.FullPath, file),
                };
                if (matches)
                {
                    inPlace.Add(node.Path);
                    continue;
                }

                remove.Add(node);
                var bare = node.Path.TrimEnd('/');
                if (!files.ContainsKey(bare) && !links.ContainsKey(bare) && !directories.Contains(bare + "/"))
                {
                    extras.Add(node.Path);
                }

                if (node.Kind == OutputNodeKind.Directory)
                {
                    removedDirectory = node.Path;
                }
            }
        }

        return new RestorePlan(
            entry.Manifest.Where(f => !inPlace.Contains(f.Path)).ToList(),
            entry.Links.Where(l => !inPlace.Contains(l.Path)).ToList(),
            entry.Directories.Where(d => !inPlace.Contains(d)).Order(StringComparer.Ordinal).ToList(),
            remove,
            extras);
    }

    /// <summary>
    /// A store can come from anywhere (another branch's CI cache, a shared folder, a careless edit), so every row is
    /// checked before use: paths relative, normalised, without <c>..</c> or a root, and inside one of the step's
    /// declared outputs; object hashes well-formed; link targets resolving inside the project. Returns what is wrong,
    /// or null. Nothing outside the outputs is ever written or deleted because of a row.
    /// Also what an entry downloaded from a remote cache must pass before it is stored (<c>RemoteCache</c>).
    /// </summary>
    public string? Validate(CacheEntry entry, IReadOnlyList<string> outputs)
    {
        string? Check(string path, bool directory)
        {
            var bare = directory ? path.TrimEnd('/') : path;
            if (bare.Length == 0 || (directory && !path.EndsWith('/')) || Path.IsPathRooted(bare) || bare.Contains('\\', StringComparison.Ordinal) ||
                bare.Split('/').Any(segment => segment is "" or "." or ".." || segment.Contains('\0', StringComparison.Ordinal)))
            {
                return $"its manifest names the path '{path}', which is not a plain project-relative path";
            }

            return outputs.Any(o => ProjectPath.IsUnder(bare, o)) ? null : $"its manifest names '{path}', which is not among the step's outputs";
        }

        foreach (var file in entry.Manifest)
        {
            if (Check(file.Path, directory: false) is { } problem)
            {
                return problem;
            }

            if (!ObjectStore.IsValidHash(file.Hash))
            {
                return $"its manifest gives '{file.Path}' the malformed object hash '{file.Hash}'";
            }

            if (file.Size < 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"its manifest gives '{file.Path}' the invalid size {file.Size}");
            }
        }

        foreach (var directory in entry.Directories)
        {
            if (Check(directory, directory: true) is { } problem)
            {
                return problem;
            }
        }

        // One path, one node: capture never names a path twice, and a path that is both a file and a folder (or a link)
        // has no faithful restore. Compared as the file system compares names (case-insensitively on macOS and Windows).
        var seen = new HashSet<string>(ProjectPath.PathComparison == StringComparison.Ordinal ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase);
        foreach (var path in entry.Manifest.Select(f => f.Path).Concat(entry.Links.Select(l => l.Path)).Concat(entry.Directories))
        {
            if (!seen.Add(path.TrimEnd('/')))
            {
                return $"its manifest names '{path.TrimEnd('/')}' more than once";
            }
        }

        // Nothing may sit below a file or a link of the same entry: restoring it would write through the link.
        var leaves = entry.Manifest.Select(f => f.Path).Concat(entry.Links.Select(l => l.Path)).ToHashSet(StringComparer.Ordinal);
        foreach (var path in leaves.Concat(entry.Directories))
        {
            var bare = path.TrimEnd('/');
            for (var slash = bare.LastIndexOf('/'); slash > 0; slash = bare.LastIndexOf('/', slash - 1))
            {
                if (leaves.Contains(bare[..slash]))
                {
                    return $"its manifest places '{path}' below the file or link '{bare[..slash]}'";
                }
            }
        }

        foreach (var link in entry.Links)
        {
            if (Check(link.Path, directory: false) is { } problem)
            {
                return problem;
            }

            var folder = Path.GetDirectoryName(ProjectPath.ToFull(_projectDirectory, link.Path))!;
            if (link.Target.Length == 0 || Path.IsPathRooted(link.Target) ||
                !ProjectPath.TryNormalize(_projectDirectory, Path.GetFullPath(Path.Combine(folder, link.Target)), out _))
            {
                return $"its manifest gives the link '{link.Path}' the target '{link.Target}', outside the project";
            }
        }

        // Each target alone is inside; a chain through the entry's own links may still lead out (out/up -> .. and
        // out/esc -> up/../../victim): resolved as the kernel would, with the entry's links as the only links known.
        if (entry.Links.Count > 0)
        {
            var links = entry.Links.ToDictionary(l => l.Path, l => l.Target,
                ProjectPath.PathComparison == StringComparison.Ordinal ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase);
            foreach (var link in entry.Links)
            {
                if (ResolveThroughLinks(link, links) is not { } resolved || !ProjectPath.TryNormalize(_projectDirectory, resolved, out _))
                {
                    return $"its manifest gives the link '{link.Path}' the target '{link.Target}', which leads out of the project through the entry's own links";
                }
            }
        }

        return null;
    }

    // Linux's MAXSYMLINKS, as PhysicalPath: a longer chain is a loop, which capture never stores.
    private const int MaxLinksFollowed = 40;

    /// <summary>
    /// Where <paramref name="link"/> leads, resolved as text as <see cref="PhysicalPath.Resolve"/> resolves on disk
    /// (a <c>..</c> after a link climbs from the link's target), the links of <paramref name="links"/> (the same
    /// entry's, by project-relative path) being the only ones followed. Null for a loop (or a chain too long).
    /// </summary>
    private string? ResolveThroughLinks(ManifestLink link, Dictionary<string, string> links)
    {
        var pending = new Stack<string>();
        void Push(string target)
        {
            foreach (var segment in (OperatingSystem.IsWindows() ? target.Replace('\\', '/') : target).Split('/').Reverse())
            {
                pending.Push(segment);
            }
        }

        Push(link.Target);
        var current = Path.GetDirectoryName(ProjectPath.ToFull(_projectDirectory, link.Path))!;
        var followed = 0;
        while (pending.TryPop(out var part))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Join(current, part);
            if (links.TryGetValue(Path.GetRelativePath(_projectDirectory, next).Replace('\\', '/'), out var target))
            {
                if (++followed > MaxLinksFollowed || Path.IsPathRooted(target))
                {
                    return null;
                }

                Push(target);
                continue;
            }

            current = next;
        }

        return current;
    }

    /// <summary>A regular file with the entry's size, mode and content (by its stamp: no read when it is unchanged).</summary>
    private bool HoldsContent(string fullPath, ManifestFile file)
    {
        var info = new FileInfo(fullPath);
        if (info.Length != file.Size)
        {
            return false;
        }

        if (!OperatingSystem.IsWindows() && ((int)info.UnixFileMode & OutputCapture.PermissionMask) != (file.Mode & OutputCapture.PermissionMask))
        {
            return false;
        }

        return _hasher.Hash(fullPath) == file.Hash;
    }

    private bool IsExcluded(string relativePath) => _excluded is not null && ProjectPath.Overlaps(relativePath, _excluded);

    /// <summary>Deletes one node as what it is: a folder with everything below it (links inside are unlinked, not followed), a file, or a link itself.</summary>
    private static void Delete(string fullPath, OutputNodeKind kind)
    {
        if (kind == OutputNodeKind.Directory)
        {
            Directory.Delete(fullPath, recursive: true);
        }
        else if (kind == OutputNodeKind.Link && OperatingSystem.IsWindows() && Directory.Exists(fullPath))
        {
            Directory.Delete(fullPath); // A directory link on Windows is removed as a directory, without its target.
        }
        else
        {
            File.Delete(fullPath);
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
