using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Keys;

/// <summary>Where the key of a step could not be computed: a declared file that does not exist.</summary>
public sealed class MissingKeyFileException(string kind, string path) : Exception($"{kind} '{path}' does not exist.")
{
    public string Kind { get; } = kind;
    public string Path { get; } = path;
}

/// <summary>
/// Computes a step's key from the SPEC components. Called only once the step's upstream steps have finished or
/// been restored, so the inputs it hashes are the ones the step will read.
/// </summary>
public sealed class StepKeyCalculator
{
    /// <summary>
    /// Bumped whenever the meaning of a component changes, so old entries stop matching. 2: the same command text
    /// now runs with <c>sh -e</c>; an entry stored when a command failed half-way but exited 0 must not be reused.
    /// </summary>
    public const string FormatVersion = "2";

    // Values longer than this are kept as hashes only: the explanation then says "changed" without quoting.
    private const int MaxStoredValueLength = 200;

    private readonly string _projectDirectory;
    private readonly string _pipelineName;
    private readonly FileHasher _hasher;
    private readonly byte[] _secretKey;

    /// <param name="secretKey">Per-store key for hashing environment values, so the store never holds a guessable digest of a secret.</param>
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
    /// The store's folder when it lies inside the project: never an input, or a glob like <c>**</c> would read the
    /// store's own changing files and never hit.
    /// </summary>
    public string? StoreDirectory { get; init; }

    /// <summary>Runs a step's <c>CacheKeyCommand</c> and returns its standard output; set by the runner.</summary>
    public Func<StepDefinition, string>? KeyCommandRunner { get; init; }

    /// <param name="producerKeyOf">For <c>IncludeArtifactIds</c>: the key of the step that produced a file, if any.</param>
    /// <param name="virtualFiles">Content hashes of files that restoring upstream hits will write (for a plan), by path.</param>
    public StepKey Compute(StepDefinition step, Func<string, string?>? producerKeyOf = null, IReadOnlyDictionary<string, string>? virtualFiles = null)
    {
        var components = new List<KeyComponent>
        {
            Text(ComponentKind.Format, "", FormatVersion),
            Text(ComponentKind.Pipeline, "", _pipelineName),
            Text(ComponentKind.Step, "", step.Name),
            Text(ComponentKind.Settings, "", string.Create(CultureInfo.InvariantCulture,
                $"strategy={step.CacheStrategy};code={step.IncludeStepCode};parameters={step.IncludeStepParameters};values={step.IncludeArtifactValues};ids={step.IncludeArtifactIds}")),
        };

        if (step.CodeCounts)
        {
            components.Add(Text(ComponentKind.Command, "", step.Command));
            components.Add(Text(ComponentKind.WorkingDirectory, "", step.WorkingDirectory));
            components.AddRange(step.Environment.Select(e => new KeyComponent(ComponentKind.StepEnvironment, e.Name, ContentHash.OfText(e.Value))));
            AddFiles(components, ComponentKind.Code, "Code file", step.Code, virtualFiles);
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
            var files = Expand(input, out var missing, virtualFiles?.Keys);
            if (missing)
            {
                throw new MissingKeyFileException("Input", input);
            }

            foreach (var file in files.Where(f => !ignored.Any(g => g.IsMatch(f) || PathOverlapsIgnored(f, g.Pattern))))
            {
                if (step.IncludeArtifactValues)
                {
                    components.Add(new KeyComponent(ComponentKind.Input, file, HashOf(file, virtualFiles)));
                }

                if (step.IncludeArtifactIds)
                {
                    components.Add(new KeyComponent(ComponentKind.Input, file + "#id", IdentityOf(file, producerKeyOf)));
                }
            }
        }

        components.AddRange(step.Outputs.Select(o => Text(ComponentKind.Output, o, o)));
        components.AddRange(step.DependsOn.Select(d => Text(ComponentKind.DependsOn, d, d)));
        AddFiles(components, ComponentKind.FileDependency, "File dependency", step.FileDependencies, virtualFiles);
        AddFiles(components, ComponentKind.SourceDependency, "Source dependency", step.SourceDependencies.Where(d => !ProjectSources.ContainsKey(d)), virtualFiles);
        foreach (var project in step.SourceDependencies.Where(ProjectSources.ContainsKey))
        {
            components.AddRange(ProjectSources[project].Select(f => new KeyComponent(ComponentKind.SourceDependency, f, HashOf(f, virtualFiles))));
        }


        foreach (var name in step.EnvironmentDependencies)
        {
            // Values are often secrets: only a keyed hash is kept, never the value or a plain digest of it.
            var value = System.Environment.GetEnvironmentVariable(name);
            var hash = value is null ? "unset" : Convert.ToHexStringLower(HMACSHA256.HashData(_secretKey, Encoding.UTF8.GetBytes(value)))[..32];
            components.Add(new KeyComponent(ComponentKind.EnvironmentDependency, name, hash));
        }

        if (step.CacheKeyCommand is not null && KeyCommandRunner is not null)
        {
            components.Add(new KeyComponent(ComponentKind.KeyCommand, "", ContentHash.OfText(KeyCommandRunner(step))));
        }

        if (step.CacheVersion is not null)
        {
            components.Add(Text(ComponentKind.CacheVersion, "", step.CacheVersion));
        }

        return KeyFolder.Fold(components);
    }

    private void AddFiles(List<KeyComponent> components, string kind, string description, IEnumerable<string> declared, IReadOnlyDictionary<string, string>? virtualFiles)
    {
        foreach (var path in declared)
        {
            var files = Expand(path, out var missing, virtualFiles?.Keys);
            if (missing)
            {
                throw new MissingKeyFileException(description, path);
            }

            components.AddRange(files.Select(f => new KeyComponent(kind, f, HashOf(f, virtualFiles))));
        }
    }

    private IReadOnlyList<string> Expand(string declared, out bool missing, IEnumerable<string>? virtualFiles)
    {
        var files = InputFiles.Expand(_projectDirectory, declared, out missing, virtualFiles);
        return StoreDirectory is null ? files : files.Where(f => !ProjectPath.IsUnder(f, StoreDirectory)).ToList();
    }

    private string HashOf(string file, IReadOnlyDictionary<string, string>? virtualFiles) =>
        virtualFiles is not null && virtualFiles.TryGetValue(file, out var hash) ? hash : _hasher.Hash(ProjectPath.ToFull(_projectDirectory, file));

    private string IdentityOf(string file, Func<string, string?>? producerKeyOf)
    {
        if (producerKeyOf?.Invoke(file) is { } producerKey)
        {
            return ContentHash.OfText("producer:" + producerKey);
        }

        // No hashing: for inputs too big to read on every run, size and time stand for the content.
        var info = new FileInfo(ProjectPath.ToFull(_projectDirectory, file));
        return ContentHash.OfText(string.Create(CultureInfo.InvariantCulture, $"{file}|{info.Length}|{info.LastWriteTimeUtc.Ticks}"));
    }

    private string Normalize(string pattern)
    {
        ProjectPath.TryNormalize(_projectDirectory, pattern, out var normalized);
        return normalized;
    }

    // An ignored directory ("logs/") leaves out every file below it.
    private static bool PathOverlapsIgnored(string file, string ignoredPattern) =>
        !ProjectPath.IsGlob(ignoredPattern) && ignoredPattern.Length > 0 && ProjectPath.IsUnder(file, ignoredPattern);

    private static KeyComponent Text(string kind, string name, string value) =>
        new(kind, name, ContentHash.OfText(value), value.Length <= MaxStoredValueLength ? value : null);
}
