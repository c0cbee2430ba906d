using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Keys;

/// <summary>
/// Where the key of a step could not be computed: a declared file or directory that does not exist, or a file (maybe
/// found in a declared directory) that is a symbolic link whose target does not exist.
/// </summary>
/// <param name="kind">What the path is to the step, capitalised: <c>Input</c>, <c>Code file</c>, <c>File dependency</c>, <c>Source dependency</c>.</param>
/// <param name="path">The path as declared, or the file below a declared directory: project-relative, <c>/</c>-separated.</param>
/// <param name="linkTarget">The target of a dangling symbolic link, as the link holds it; null for a path that does not exist.</param>
public sealed class MissingKeyFileException(string kind, string path, string? linkTarget = null, string? problem = null)
    : Exception($"{kind} '{path}' {problem ?? ProblemOf(linkTarget)}.")
{
    public string Kind { get; } = kind;
    public string Path { get; } = path;
    public string? LinkTarget { get; } = linkTarget;

    /// <summary>
    /// What is wrong, to follow the path in a sentence: "does not exist", "is a symbolic link to '…', which does not
    /// exist", or why a path that exists has no content to hash (a pipe, a link to a folder).
    /// </summary>
    public string Problem { get; } = problem ?? ProblemOf(linkTarget);

    private static string ProblemOf(string? linkTarget) =>
        linkTarget is null ? "does not exist" : $"is a symbolic link to '{linkTarget}', which does not exist";
}

/// <summary>
/// Computes a step's key from the SPEC components. Called only once the step's upstream steps have finished or
/// been restored, so the inputs it hashes are the ones the step will read.
/// </summary>
public sealed class StepKeyCalculator
{
    /// <summary>
    /// Bumped whenever the meaning of a component changes, so old entries stop matching. 2: upstream steps' outputs
    /// joined the key (<see cref="ComponentKind.UpstreamOutputs"/>), and the same command text now runs with
    /// <c>sh -e</c> (an entry stored when a command failed half-way but exited 0 must not be reused). 3: a step's
    /// <c>Environment</c> values are hashed with the store's secret (<see cref="KeyedHash"/>), no longer plainly.
    /// </summary>
    public const string FormatVersion = "3";

    // Values longer than this are kept as hashes only: the explanation then says "changed" without quoting.
    private const int MaxStoredValueLength = 200;

    private readonly string _projectDirectory;
    private readonly string _pipelineName;
    private readonly FileHasher _hasher;
    private readonly byte[] _secretKey;

    /// <param name="secretKey">
    /// The store's secret (<c>CacheStore.Secret</c>): the key of <see cref="KeyedHash"/>, which environment values go
    /// through, so the store never holds a guessable digest of a secret.
    /// </param>
    public StepKeyCalculator(string projectDirectory, string pipelineName, FileHasher hasher, byte[] secretKey)
    {
        _projectDirectory = projectDirectory;
        _pipelineName = pipelineName;
        _hasher = hasher;
        _secretKey = secretKey;
    }

    /// <summary>Files of each project named in <c>SourceDependencies</c>, by the project's normalised path.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ProjectSources { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>
    /// The store's folder, absolute: never an input, wherever it is and however it is reached (a glob like <c>**</c>
    /// over the project, or a linked folder leading to it), or a step would read the store's own changing files and
    /// never hit.
    /// </summary>
    public string? StoreDirectory { get; init; }

    /// <summary>Runs a step's <c>CacheKeyCommand</c> and returns its standard output; set by the runner.</summary>
    public Func<StepDefinition, string>? KeyCommandRunner { get; init; }

    /// <summary>
    /// Upstream steps the graph inferred from where the step runs or from a project's folder
    /// (<c>PipelineGraph.InferredWholeUpstreamOf</c>), by step name: the step may read any of their outputs, so each
    /// joins the key as a <c>DependsOn</c> step does. Set by the runner and the planner.
    /// </summary>
    public Func<string, IEnumerable<string>>? InferredUpstreamOf { get; init; }

    /// <summary>
    /// The declared tools' versions (<c>PipelineTool</c>) by name, found once per build before the first key; null when
    /// no tool is declared. Each joins the key of every step, or of the steps whose <c>Tools</c> name it. Set by the
    /// runner and the planner.
    /// </summary>
    public IReadOnlyDictionary<string, string>? ToolVersions { get; init; }

    /// <summary><c>PipelineKeyPlatform</c>: whether a step that does not say (<c>Platform</c>) has <see cref="PlatformName"/> in its key.</summary>
    public bool KeyPlatformByDefault { get; init; }

    /// <summary>
    /// <c>PipelineStrictEnvironment</c>: the settings component says so (<c>env=strict</c>), so an entry made while
    /// the step saw the whole environment is not reused by a strict build (the same command may see less and write
    /// something else), and the other way round. Off, keys are what they were before the property existed.
    /// </summary>
    public bool StrictEnvironment { get; init; }

    /// <summary>The platform a step that opts in is keyed by: <see cref="HostPlatform.Name"/> (tests stand in another machine's).</summary>
    public string PlatformName { get; init; } = HostPlatform.Name;

    /// <param name="producerOutputsOf">
    /// For <c>IncludeArtifactIds</c>: the <see cref="OutputsDigest"/> of the step that produced a file, if any (its
    /// outputs by content: a producer may execute again under the same key and write something else).
    /// </param>
    /// <param name="virtualFiles">
    /// Content hashes of files that restoring upstream hits will write (for a plan), by path; a path ending in
    /// <c>/</c> is a directory the restore creates (its value is unused).
    /// </param>
    /// <param name="upstreamOutputs">
    /// An upstream step's <see cref="OutputsDigest"/> by its name (case-insensitive), null when not known. Each step of
    /// <c>DependsOn</c> and of <see cref="InferredUpstreamOf"/> adds one <see cref="ComponentKind.UpstreamOutputs"/>
    /// component (SPEC <c>DependsOn</c>: "their outputs (by content) join this step's key"). A digest that is not known
    /// gives a component no entry can match, so the step executes rather than risk a wrong hit. Without this function
    /// (callers with no graph) no such component is added; the runner and the planner always pass it.
    /// </param>
    /// <param name="removedPaths">
    /// Paths on disk that restoring upstream hits removes first (for a plan: extra or replaced outputs, a folder with
    /// everything below it), so never hashed as they are now: the key is computed against the outputs as the restore
    /// leaves them, the entry's manifest (<paramref name="virtualFiles"/>), as the run computes it after the restore.
    /// </param>
    /// <returns>The key, with a warning (MLP2010) for each glob that matched no file.</returns>
    /// <exception cref="MissingKeyFileException">A declared path does not exist, or a file to hash is a dangling symbolic link.</exception>
    public StepKey Compute(
        StepDefinition step,
        Func<string, string?>? producerOutputsOf = null,
        IReadOnlyDictionary<string, string>? virtualFiles = null,
        Func<string, string?>? upstreamOutputs = null,
        IReadOnlyCollection<string>? removedPaths = null)
    {
        var view = new FilesView(virtualFiles, removedPaths);
        var warnings = new List<PipelineDiagnostic>();
        var components = new List<KeyComponent>
        {
            Text(ComponentKind.Format, "", FormatVersion),
            Text(ComponentKind.Pipeline, "", _pipelineName),
            Text(ComponentKind.Step, "", step.Name),
            Text(ComponentKind.Settings, "", string.Create(CultureInfo.InvariantCulture,
                $"strategy={step.CacheStrategy};code={step.IncludeStepCode};parameters={step.IncludeStepParameters};values={step.IncludeArtifactValues};ids={step.IncludeArtifactIds}{(step.PersistOutputs ? ";persist=True" : "")}{(StrictEnvironment ? ";env=strict" : "")}")),
        };

        if (step.CodeCounts)
        {
            components.Add(Text(ComponentKind.Command, "", step.Command));
            components.Add(Text(ComponentKind.WorkingDirectory, "", step.WorkingDirectory));
            // Environment values are often tokens: keyed like EnvironmentDependencies, never kept in clear (no Value).
            components.AddRange(step.Environment.Select(e => new KeyComponent(ComponentKind.StepEnvironment, e.Name, KeyedHash(e.Value))));
            AddFiles(components, ComponentKind.Code, "Code file", step.Code, step, view, warnings);
        }

        if (step.IncludeStepParameters)
        {
            components.AddRange(step.Parameters
                .Where(p => !step.IgnoredInputs.Contains(p.Name, StringComparer.Ordinal))
                .Select(p => Text(ComponentKind.Parameter, p.Name, p.Value)));
        }

        var ignored = step.IgnoredInputs.Select(pattern => new Glob(Normalize(pattern))).ToList();
        foreach (var input in step.Inputs)
        {
            var files = Expand("Input", input, step, view, warnings);
            foreach (var file in files.Where(f => !ignored.Any(g => g.IsMatch(f) || PathOverlapsIgnored(f, g.Pattern))))
            {
                if (step.IncludeArtifactValues)
                {
                    components.Add(new KeyComponent(ComponentKind.Input, file, HashOf("Input", file, virtualFiles)));
                }

                if (step.IncludeArtifactIds)
                {
                    components.Add(new KeyComponent(ComponentKind.Input, file + "#id", IdentityOf(file, producerOutputsOf)));
                }
            }
        }

        components.AddRange(step.Outputs.Select(o => Text(ComponentKind.Output, o, o)));
        components.AddRange(step.DependsOn.Select(d => Text(ComponentKind.DependsOn, d, d)));
        if (upstreamOutputs is not null)
        {
            var upstream = step.DependsOn.Concat(InferredUpstreamOf?.Invoke(step.Name) ?? []).Distinct(StringComparer.OrdinalIgnoreCase);
            components.AddRange(upstream.Select(u => UpstreamComponent(u, upstreamOutputs(u))));
        }

        AddFiles(components, ComponentKind.FileDependency, "File dependency", step.FileDependencies, step, view, warnings);
        AddFiles(components, ComponentKind.SourceDependency, "Source dependency", step.SourceDependencies.Where(d => !ProjectSources.ContainsKey(d)), step, view, warnings);
        foreach (var project in step.SourceDependencies.Where(ProjectSources.ContainsKey))
        {
            components.AddRange(ProjectSources[project].Select(f => new KeyComponent(ComponentKind.SourceDependency, f, HashOf("Source dependency", f, virtualFiles))));
        }


        foreach (var name in step.EnvironmentDependencies)
        {
            var value = System.Environment.GetEnvironmentVariable(name);
            components.Add(new KeyComponent(ComponentKind.EnvironmentDependency, name, value is null ? "unset" : KeyedHash(value)));
        }

        if (step.CacheKeyCommand is not null && KeyCommandRunner is not null)
        {
            components.Add(new KeyComponent(ComponentKind.KeyCommand, "", ContentHash.OfText(KeyCommandRunner(step))));
        }

        if (step.CacheVersion is not null)
        {
            components.Add(Text(ComponentKind.CacheVersion, "", step.CacheVersion));
        }

        AddTools(components, step);
        if (step.Platform ?? KeyPlatformByDefault)
        {
            components.Add(Text(ComponentKind.Platform, "", PlatformName));
        }

        return KeyFolder.Fold(components) with { Warnings = warnings };
    }

    /// <summary>
    /// The digest an environment value is kept as: HMAC-SHA256 keyed with the store's secret, as 32 lowercase hex
    /// digits (the first 128 bits, like every other component hash). A plain digest of a short token can be reversed
    /// by trying every candidate; without the secret, which never leaves <c>cache.db</c>, this one cannot, and the
    /// same value gives another digest in another store.
    /// </summary>
    public string KeyedHash(string value) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_secretKey, Encoding.UTF8.GetBytes(value)))[..32];

    /// <summary>
    /// One <see cref="ComponentKind.Tool"/> component per tool the step depends on, its version in clear: every
    /// declared tool, or only those its <c>Tools</c> names. A step with no tool (none declared, or <c>Tools="none"</c>)
    /// gets no component, so its key is the one it had before tools existed.
    /// </summary>
    private static readonly IReadOnlyDictionary<string, string> NoTools = new Dictionary<string, string>();

    private void AddTools(List<KeyComponent> components, StepDefinition step)
    {
        if (step.Tools is null)
        {
            components.AddRange((ToolVersions ?? NoTools).Select(t => Text(ComponentKind.Tool, t.Key, t.Value)));
            return;
        }

        foreach (var named in step.Tools.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var tool = (ToolVersions ?? NoTools).FirstOrDefault(t => t.Key.Equals(named, StringComparison.OrdinalIgnoreCase));
            // A name without a version is rejected before any key (MLP1023); should one get here all the same, the
            // step executes rather than hit without its tool's version.
            components.Add(tool.Key is null
                ? new KeyComponent(ComponentKind.Tool, named, ContentHash.OfText("unknown tool " + Guid.NewGuid().ToString("N")))
                : Text(ComponentKind.Tool, tool.Key, tool.Value));
        }
    }

    private void AddFiles(List<KeyComponent> components, string kind, string description, IEnumerable<string> declared, StepDefinition step,
        FilesView view, List<PipelineDiagnostic> warnings)
    {
        foreach (var path in declared)
        {
            var files = Expand(description, path, step, view, warnings);
            components.AddRange(files.Select(f => new KeyComponent(kind, f, HashOf(description, f, view.Virtual))));
        }
    }

    /// <summary>
    /// The files of one declared path. Every kind of path is held to the same rule: a file or directory that does not
    /// exist is an error (it would silently count as nothing); a glob that matches nothing only a warning, since a
    /// pattern may rightly match nothing today (an optional extra file).
    /// </summary>
    private IReadOnlyList<string> Expand(string kind, string declared, StepDefinition step, FilesView view, List<PipelineDiagnostic> warnings)
    {
        var files = InputFiles.Expand(_projectDirectory, declared, out var missing, view.Virtual?.Keys, StoreDirectory, view.Removed);
        if (missing)
        {
            throw new MissingKeyFileException(kind, declared);
        }

        if (files.Count == 0 && ProjectPath.IsGlob(declared))
        {
            warnings.Add(new PipelineDiagnostic(ErrorCodes.InputGlobMatchesNothing, step.Name,
                $"{kind} glob '{declared}' of step '{step.Name}' matches no file, so the step's key holds no file for it. Check the pattern, or remove it from the step."));
        }

        return files;
    }

    /// <summary>A plan's view of the files: what restoring upstream hits writes (by path) and what it removes first.</summary>
    private sealed record FilesView(IReadOnlyDictionary<string, string>? Virtual, IReadOnlyCollection<string>? Removed);

    private string HashOf(string kind, string file, IReadOnlyDictionary<string, string>? virtualFiles) =>
        virtualFiles is not null && virtualFiles.TryGetValue(file, out var hash) ? hash : OnDisk(kind, file, _hasher.Hash);

    private string IdentityOf(string file, Func<string, string?>? producerOutputsOf)
    {
        if (producerOutputsOf?.Invoke(file) is { } producerOutputs)
        {
            return ContentHash.OfText("producer:" + producerOutputs);
        }

        // No hashing: for inputs too big to read on every run, the identity a hash stamp is trusted by stands for
        // the content (size, mtime and ctime in ns, inode, device, a link's own part), so a rewrite that restores
        // size and mtime still changes it. A dangling link has no identity: MLP2005, as hashing would say.
        return OnDisk("Input", file, full =>
        {
            var id = FileIdentity.Of(full) ?? throw new FileNotFoundException(null, full);
            return ContentHash.OfText(string.Create(CultureInfo.InvariantCulture,
                $"{file}|{id.Size}|{id.LastWriteUnixNs}|{id.ChangeUnixNs}|{id.Inode}|{id.Device}|{id.LinkInode}|{id.LinkChangeUnixNs}"));
        });
    }

    /// <summary>
    /// Reads <paramref name="file"/> through <paramref name="read"/>; a file gone since it was listed, or a symbolic
    /// link whose target does not exist, becomes <see cref="MissingKeyFileException"/> (MLP2005, naming the link),
    /// not an unexpected failure.
    /// </summary>
    private string OnDisk(string kind, string file, Func<string, string> read)
    {
        var full = ProjectPath.ToFull(_projectDirectory, file);
        try
        {
            return read(full);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new MissingKeyFileException(kind, file, LinkTargetOf(full), NotAFileProblem(full));
        }
        catch (IOException) when (IsLinkLoop(full))
        {
            // ELOOP: a link that leads back to itself has no target either.
            throw new MissingKeyFileException(kind, file, LinkTargetOf(full));
        }
    }

    /// <summary>
    /// For a path that exists but has no content to hash, what it is: a pipe, socket or device (opening a pipe would
    /// wait forever), or a link to a folder (enumerating an input folder does not follow those, to avoid cycles).
    /// Null when the path, or its link's target, simply does not exist.
    /// </summary>
    private static string? NotAFileProblem(string full)
    {
        try
        {
            var link = new FileInfo(full).LinkTarget;
            if (link is not null)
            {
                return File.ResolveLinkTarget(full, returnFinalTarget: true) switch
                {
                    DirectoryInfo { Exists: true } => $"is a symbolic link to the folder '{link}', which is not followed inside an input folder: declare that folder itself as an input",
                    FileInfo { Exists: true } => $"is a symbolic link to '{link}', which is not a regular file (a pipe, socket or device)",
                    _ => null,
                };
            }

            return Directory.Exists(full) ? null : File.Exists(full) ? "is not a regular file (a pipe, socket or device)" : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? LinkTargetOf(string full)
    {
        try
        {
            return new FileInfo(full).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool IsLinkLoop(string full)
    {
        if (LinkTargetOf(full) is null)
        {
            return false;
        }

        try
        {
            File.ResolveLinkTarget(full, returnFinalTarget: true);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private string Normalize(string pattern)
    {
        ProjectPath.TryNormalize(_projectDirectory, pattern, out var normalized);
        return normalized;
    }

    // An ignored directory ("logs/") leaves out every file below it.
    private static bool PathOverlapsIgnored(string file, string ignoredPattern) =>
        !ProjectPath.IsGlob(ignoredPattern) && ignoredPattern.Length > 0 && ProjectPath.IsUnder(file, ignoredPattern);

    // Unknown outputs must never match an entry: a one-off hash makes the step execute instead of hitting.
    private static KeyComponent UpstreamComponent(string step, string? digest) =>
        new(ComponentKind.UpstreamOutputs, step, digest ?? ContentHash.OfText("unknown outputs " + Guid.NewGuid().ToString("N")));

    private static KeyComponent Text(string kind, string name, string value) =>
        new(kind, name, ContentHash.OfText(value), value.Length <= MaxStoredValueLength ? value : null);
}
