using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Graph;

/// <summary>
/// The steps and their edges: declared <c>DependsOn</c> plus inferred ones. A step depends on another when anything
/// its key hashes can hold that step's output (its <c>Inputs</c>, <c>Code</c>, <c>FileDependencies</c> or
/// <c>SourceDependencies</c>), or when it runs inside that step's output directory. Built only from a valid
/// configuration; <see cref="Build"/> reports what makes it invalid.
/// </summary>
public sealed class PipelineGraph
{
    private readonly Dictionary<string, StepDefinition> _steps;
    private readonly Dictionary<string, List<string>> _upstream;
    private readonly Dictionary<string, List<string>> _inferredWhole;

    private PipelineGraph(IReadOnlyList<StepDefinition> ordered, Dictionary<string, List<string>> upstream, Dictionary<string, List<string>> inferredWhole)
    {
        Steps = ordered;
        _steps = ordered.ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);
        _upstream = upstream;
        _inferredWhole = inferredWhole;
        for (var i = 0; i < ordered.Count; i++)
        {
            foreach (var output in ordered[i].Outputs)
            {
                _outputs.Add(output, i);
            }
        }
    }

    // Every output by path, as its step's position in Steps.
    private readonly PathIndex<int> _outputs = new();

    /// <summary>Steps in a dependency order (upstream first; ties in declaration order).</summary>
    public IReadOnlyList<StepDefinition> Steps { get; }

    public StepDefinition this[string name] => _steps[name];

    public bool Contains(string name) => _steps.ContainsKey(name);

    /// <summary>Direct upstream steps of <paramref name="step"/>.</summary>
    public IReadOnlyList<string> UpstreamOf(string step) => _upstream[step];

    /// <summary>
    /// Inferred upstream steps whose outputs count whole in <paramref name="step"/>'s key, as a <c>DependsOn</c>
    /// step's do: the step runs inside one of their output directories, or one of their outputs lies in the folder of
    /// a project in its <c>SourceDependencies</c>. There the engine cannot tell which of their files the step reads
    /// (a project's source list is evaluated before any step runs, so a generated file can be missing from it).
    /// Steps the step declares in <c>DependsOn</c> are not repeated here.
    /// </summary>
    public IReadOnlyList<string> InferredWholeUpstreamOf(string step) => _inferredWhole[step];

    /// <summary>The steps and everything they need, transitively.</summary>
    public HashSet<string> WithUpstream(IEnumerable<string> names)
    {
        var result = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var stack = new Stack<string>(names);
        while (stack.TryPop(out var name))
        {
            if (result.Add(name))
            {
                foreach (var up in _upstream[name])
                {
                    stack.Push(up);
                }
            }
        }

        return result;
    }

    /// <summary>The step whose declared output holds <paramref name="file"/>, if any.</summary>
    public string? ProducerOf(string file)
    {
        var first = int.MaxValue;
        foreach (var i in _outputs.Holding(file))
        {
            first = Math.Min(first, i);
        }

        return first == int.MaxValue ? null : Steps[first].Name;
    }

    /// <summary>The step and everything that depends on it, transitively.</summary>
    public HashSet<string> WithDownstream(string name)
    {
        var result = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { name };
        foreach (var step in Steps)
        {
            if (_upstream[step.Name].Any(result.Contains))
            {
                result.Add(step.Name);
            }
        }

        return result;
    }

    /// <summary>Validates the pipeline as a whole and builds its graph; null when any diagnostic was added.</summary>
    /// <param name="projectSources">
    /// The files of each project named in <c>SourceDependencies</c> (<c>PipelineOptions.ProjectSources</c>), by the
    /// project's normalised path; a <c>SourceDependencies</c> entry not in it is a plain file or folder.
    /// </param>
    /// <param name="projectDirectory">
    /// When given, a read path that passes through a symbolic link is also judged where the link leads (see
    /// <see cref="WithPhysical"/>), so an input through a link into another step's output is an edge, and MLP1007.
    /// </param>
    public static PipelineGraph? Build(
        IReadOnlyList<StepDefinition> steps,
        List<PipelineDiagnostic> diagnostics,
        IReadOnlyDictionary<string, IReadOnlyList<string>>? projectSources = null,
        string? projectDirectory = null)
    {
        projectSources ??= new Dictionary<string, IReadOnlyList<string>>();
        var errorsBefore = diagnostics.Count;
        var byName = new Dictionary<string, StepDefinition>(StringComparer.OrdinalIgnoreCase);
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var step in steps)
        {
            seen[step.Name] = seen.GetValueOrDefault(step.Name) + 1;
            if (!byName.TryAdd(step.Name, step))
            {
                // At the repeated declaration (the one to remove), not at the first.
                diagnostics.Add(new(ErrorCodes.DuplicateStepName, step.Name, $"Step name '{step.Name}' is declared more than once. Step names must be unique.")
                {
                    Occurrence = seen[step.Name] - 1,
                });
            }
        }

        var unique = byName.Values.ToList();
        var upstream = unique.ToDictionary(s => s.Name, _ => new List<string>(), StringComparer.OrdinalIgnoreCase);
        foreach (var step in unique)
        {
            foreach (var dep in step.DependsOn)
            {
                if (!byName.TryGetValue(dep, out var target))
                {
                    diagnostics.Add(new(ErrorCodes.UnknownDependency, step.Name, $"Step '{step.Name}' depends on '{dep}', which is not a step of this pipeline."));
                }
                else if (!upstream[step.Name].Contains(target.Name))
                {
                    upstream[step.Name].Add(target.Name);
                }
            }
        }

        var hashed = unique.ToDictionary(s => s.Name, s => HashedPaths(s, projectSources, projectDirectory), StringComparer.OrdinalIgnoreCase);
        CheckOutputs(unique, hashed, diagnostics);
        var inferredWhole = InferEdges(unique, hashed, upstream);

        if (diagnostics.Count > errorsBefore)
        {
            return null;
        }

        var ordered = TopologicalOrder(unique, upstream, diagnostics);
        return ordered is null ? null : new PipelineGraph(ordered, upstream, inferredWhole);
    }

    /// <summary>
    /// A declared path whose files the step's key hashes, named as messages name it. <c>Files</c> are what it reads (for
    /// a project: its file and the sources MSBuild evaluated). <c>Folder</c> is a project's folder: an output there may
    /// be a source the evaluation did not see yet, so it orders the steps, but it is no conflict with the step's own
    /// outputs (a step may build a tool into the tool's own <c>bin/</c>).
    /// </summary>
    private sealed record HashedPath(string What, string Path, IReadOnlyList<string> Files, string? Folder = null)
    {
        private Func<string, bool>[]? _readers;

        public bool Reads(string output) => (_readers ??= Files.Select(PathOverlap.Reader).ToArray()).Any(read => read(output));

        public bool MayRead(string output) => Folder is not null && Paths.ProjectPath.Overlaps(output, Folder);
    }

    private static List<HashedPath> HashedPaths(StepDefinition step, IReadOnlyDictionary<string, IReadOnlyList<string>> projectSources, string? projectDirectory)
    {
        IEnumerable<HashedPath> Plain(string what, IEnumerable<string> paths) => paths.Select(p => new HashedPath(what, p, WithPhysical(p, projectDirectory)));

        var projects = step.SourceDependencies.Where(projectSources.ContainsKey).Select(project =>
        {
            // A project in the pipeline's own folder has no folder rule: every output of every step lies there.
            var slash = project.LastIndexOf('/');
            return new HashedPath("source dependency", project, [project, .. projectSources[project]], slash > 0 ? project[..slash] + "/" : null);
        });

        return Plain("input", step.Inputs)
            .Concat(Plain("code file", step.Code))
            .Concat(Plain("file dependency", step.FileDependencies))
            .Concat(Plain("source dependency", step.SourceDependencies.Where(d => !projectSources.ContainsKey(d))))
            .Concat(projects)
            .ToList();
    }

    /// <summary>
    /// <paramref name="path"/>, plus where it really is when a symbolic link on its way leads elsewhere in the project
    /// (<c>link -&gt; data</c>: <c>link/sub/x.txt</c> is also <c>data/sub/x.txt</c>; a glob's fixed folders are
    /// followed: <c>link/**/*.txt</c> is also <c>data/**/*.txt</c>). Outputs are declared by the steps that write them,
    /// so judging reads by text alone missed the step writing what a linked input reads, and the reader could run first
    /// or hit on the old file. Only links that exist when the graph is built are seen: a link a step creates is judged
    /// by its text (its target cannot be known before the step runs); declare DependsOn for it.
    /// </summary>
    private static IReadOnlyList<string> WithPhysical(string path, string? projectDirectory)
    {
        if (projectDirectory is null || OperatingSystem.IsWindows())
        {
            return [path];
        }

        var isGlob = Paths.ProjectPath.IsGlob(path);
        var fixedPart = isGlob ? new Glob(path).BaseDirectory : path.TrimEnd('/');
        if (fixedPart.Length == 0)
        {
            return [path];
        }

        var root = PhysicalPath.Resolve(projectDirectory)?.Replace('\\', '/');
        var resolved = PhysicalPath.Resolve(Paths.ProjectPath.ToFull(projectDirectory, fixedPart))?.Replace('\\', '/');
        if (root is null || resolved is null || !Paths.ProjectPath.IsUnder(resolved, root) || resolved.TrimEnd('/') == root.TrimEnd('/'))
        {
            return [path]; // A loop, or a place outside the project, where no step's output can be.
        }

        var physical = Paths.ProjectPath.FromFull(root, resolved) + path[fixedPart.Length..];
        return physical == path ? [path] : [path, physical];
    }

    private static void CheckOutputs(List<StepDefinition> steps, Dictionary<string, List<HashedPath>> hashed, List<PipelineDiagnostic> diagnostics)
    {
        // Every output by path, numbered in (step, output) order: the outputs of later steps that overlap one are looked
        // up, not compared one by one, and reported in the order a walk over every pair would report them.
        var outputs = new PathIndex<int>();
        var ownerStep = new List<int>();
        var ownerOutput = new List<string>();
        for (var i = 0; i < steps.Count; i++)
        {
            foreach (var output in steps[i].Outputs)
            {
                outputs.Add(output, ownerStep.Count);
                ownerStep.Add(i);
                ownerOutput.Add(output);
            }
        }

        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            foreach (var output in step.Outputs)
            {
                // Its key would hash what it wrote last time, so it would never hit, and it would read a half-written file.
                foreach (var read in hashed[step.Name].Where(r => r.Reads(output)))
                {
                    diagnostics.Add(new(ErrorCodes.OutputOverlapsInput, step.Name,
                        $"Output '{output}' of step '{step.Name}' overlaps its own {read.What} '{read.Path}'. A step cannot write what it reads: write to another path."));
                }

                var overlapping = new List<int>(outputs.Overlapping(output));
                overlapping.Sort();
                foreach (var n in overlapping)
                {
                    var (j, other) = (ownerStep[n], ownerOutput[n]);
                    if (j > i)
                    {
                        diagnostics.Add(new(ErrorCodes.DuplicateOutput, steps[j].Name,
                            $"Output '{other}' of step '{steps[j].Name}' is also declared by step '{step.Name}' ('{output}'). Each output belongs to one step."));
                    }
                }
            }
        }
    }

    /// <summary>
    /// Adds an edge wherever a step can read another's output, and returns, by step, the inferred upstream steps whose
    /// outputs count whole in its key (see <see cref="InferredWholeUpstreamOf"/>).
    /// </summary>
    private static Dictionary<string, List<string>> InferEdges(List<StepDefinition> steps, Dictionary<string, List<HashedPath>> hashed, Dictionary<string, List<string>> upstream)
    {
        // Every output by path, as the position of its step: what a path can touch is looked up (near-linear in the
        // steps), and each candidate is then judged exactly as before, by the same predicates, in declaration order.
        var outputs = new PathIndex<int>();
        for (var i = 0; i < steps.Count; i++)
        {
            foreach (var output in steps[i].Outputs)
            {
                outputs.Add(output, i);
            }
        }

        var inferredWhole = steps.ToDictionary(s => s.Name, _ => new List<string>(), StringComparer.OrdinalIgnoreCase);
        for (var c = 0; c < steps.Count; c++)
        {
            var consumer = steps[c];
            var declared = upstream[consumer.Name].ToList();
            var reads = hashed[consumer.Name];
            var candidates = Candidates(consumer, reads, outputs, steps.Count);
            for (var n = 0; n < candidates.Count; n++)
            {
                var p = candidates[n];
                if (p == c || (n > 0 && candidates[n - 1] == p))
                {
                    continue;
                }

                var producer = steps[p];

                // Running inside an upstream output directory: the command may read anything there (a generated script).
                var whole = producer.Outputs.Any(o => consumer.WorkingDirectory.Length > 0 && Paths.ProjectPath.IsUnder(consumer.WorkingDirectory, o)) ||
                            producer.Outputs.Any(o => reads.Any(r => r.MayRead(o)));
                if (whole && !declared.Contains(producer.Name))
                {
                    inferredWhole[consumer.Name].Add(producer.Name);
                }

                if (!upstream[consumer.Name].Contains(producer.Name) && (whole || producer.Outputs.Any(o => reads.Any(r => r.Reads(o)))))
                {
                    upstream[consumer.Name].Add(producer.Name);
                }
            }
        }

        return inferredWhole;
    }

    /// <summary>
    /// The positions of the steps that can hold an output the consumer reads or runs in, ascending, possibly repeated:
    /// every step an edge could come from (a superset; the caller judges each). A path can only read an output it
    /// overlaps, and a glob only one that overlaps its fixed leading folders (<see cref="Glob.BaseDirectory"/>).
    /// </summary>
    private static List<int> Candidates(StepDefinition consumer, List<HashedPath> reads, PathIndex<int> outputs, int stepCount)
    {
        var found = new List<int>();
        if (consumer.WorkingDirectory.Length > 0)
        {
            found.AddRange(outputs.Holding(consumer.WorkingDirectory));
        }

        foreach (var read in reads)
        {
            if (read.Folder is not null)
            {
                found.AddRange(outputs.Overlapping(read.Folder));
            }

            foreach (var file in read.Files)
            {
                if (!Paths.ProjectPath.IsGlob(file))
                {
                    found.AddRange(outputs.Overlapping(file));
                }
                else if (Paths.ProjectPath.PathComparison == StringComparison.Ordinal)
                {
                    found.AddRange(outputs.Overlapping(new Glob(file).BaseDirectory));
                }
                else
                {
                    // Where paths ignore case, a glob's regex folds case more widely than the index compares: ask every step.
                    found.Clear();
                    for (var i = 0; i < stepCount; i++)
                    {
                        found.Add(i);
                    }

                    return found;
                }
            }
        }

        found.Sort();
        return found;
    }

    private static List<StepDefinition>? TopologicalOrder(List<StepDefinition> steps, Dictionary<string, List<string>> upstream, List<PipelineDiagnostic> diagnostics)
    {
        var ordered = new List<StepDefinition>();
        var state = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase); // 1 visiting, 2 done
        var byName = steps.ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);
        var path = new List<string>();

        bool Visit(string name)
        {
            if (state.TryGetValue(name, out var s))
            {
                if (s == 2)
                {
                    return true;
                }

                var cycle = path.Skip(path.FindIndex(p => p.Equals(name, StringComparison.OrdinalIgnoreCase))).Append(name);
                diagnostics.Add(new(ErrorCodes.DependencyCycle, name, $"Steps form a dependency cycle: {string.Join(" -> ", cycle)}. Remove one of these dependencies."));
                return false;
            }

            state[name] = 1;
            path.Add(name);
            foreach (var up in upstream[name])
            {
                if (!Visit(up))
                {
                    return false;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[name] = 2;
            ordered.Add(byName[name]);
            return true;
        }

        return steps.All(step => Visit(step.Name)) ? ordered : null;
    }
}
