using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Graph;

/// <summary>
/// Checks where declared outputs really are, symbolic links on the way followed (<see cref="PhysicalPath"/>), before
/// any step runs. Outputs are removed before their step executes and made exact on a hit, so an output that a linked
/// folder takes out of the project (<c>ext -&gt; /elsewhere</c>, <c>Outputs="ext/sub/"</c>) would have the SDK delete
/// and write outside it, and two outputs that meet through a link (<c>al -&gt; out</c>: <c>out/</c> and
/// <c>al/b.txt</c>) would have one step's restore remove the other's file. <see cref="PipelineGraph"/> judges paths
/// by their text; this adds the file system's view. A link inside the project to a folder inside it stays allowed.
/// </summary>
public static class OutputLocations
{
    /// <summary>
    /// Adds MLP1008 for an output that leads out of the project, MLP1006 for outputs of two steps that meet, and
    /// MLP1021 for an output that is or holds one of <paramref name="buildFiles"/> (absolute paths: the project file),
    /// which would be deleted before the step runs.
    /// </summary>
    public static void Check(IReadOnlyList<StepDefinition> steps, string projectDirectory, List<PipelineDiagnostic> diagnostics, IReadOnlyCollection<string>? buildFiles = null)
    {
        // Each build file as (declared path, where it really is): an output is judged where it really is too.
        var buildPhysical = (buildFiles ?? []).Select(f => (Declared: f, Physical: PhysicalPath.Resolve(f)?.Replace(Path.DirectorySeparatorChar, '/')))
            .Where(b => b.Physical is not null).ToList();
        var root = PhysicalPath.Resolve(projectDirectory) ?? projectDirectory;
        var located = new List<(StepDefinition Step, string Output, string Physical)>();
        // Outputs share their folders (out/a.txt, out/b.txt): each folder is resolved once, a stat per part.
        var folders = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var step in steps)
        {
            foreach (var output in step.Outputs)
            {
                // The folders above the output are followed; the output itself is not: a link there is the step's to
                // replace (it is deleted, never followed, before the step runs).
                var full = ProjectPath.ToFull(projectDirectory, output);
                var folder = Path.GetDirectoryName(full)!;
                if (!folders.TryGetValue(folder, out var parent))
                {
                    folders[folder] = parent = PhysicalPath.Resolve(folder);
                }

                var physical = parent is null ? null : Path.Join(parent, Path.GetFileName(full)).Replace('\\', '/');
                if (physical is null || !ProjectPath.IsUnder(physical, root.Replace('\\', '/')) || ProjectPath.IsUnder(root.Replace('\\', '/'), physical))
                {
                    diagnostics.Add(new(ErrorCodes.OutputOutsideProject, step.Name,
                        $"Output '{output}' of step '{step.Name}' leads outside the project directory through a symbolic link (to '{physical ?? "a loop of links"}'). Outputs are removed and restored, so they must lie below the project directory: declare the path the step really writes, inside the project."));
                    continue;
                }

                if (buildPhysical.FirstOrDefault(b => ProjectPath.IsUnder(b.Physical!, physical)).Declared is { } buildFile)
                {
                    diagnostics.Add(new(ErrorCodes.OutputHoldsProjectFile, step.Name,
                        $"Output '{output}' of step '{step.Name}' is or holds the build's own file '{buildFile}'. Outputs are removed before their step runs: declare the files or folder the step really writes."));
                    continue;
                }

                located.Add((step, output, physical));
            }
        }

        // Where outputs really are, by path: the outputs an output meets are looked up, not compared with every other
        // one (issue 9), then reported in the order a walk over every pair would report them.
        var byPhysical = new PathIndex<int>();
        var meeting = new List<long>(); // (first << 32) | second: sorted, the order of a walk over every pair
        for (var j = 0; j < located.Count; j++)
        {
            foreach (var i in byPhysical.Overlapping(located[j].Physical))
            {
                meeting.Add(((long)i << 32) | (uint)j);
            }

            byPhysical.Add(located[j].Physical, j);
        }

        meeting.Sort();
        foreach (var pair in meeting)
        {
            var (i, j) = ((int)(pair >> 32), (int)(pair & uint.MaxValue));
            var (a, b) = (located[i], located[j]);
            if (!ReferenceEquals(a.Step, b.Step) && ProjectPath.Overlaps(a.Physical, b.Physical) && !ProjectPath.Overlaps(a.Output, b.Output))
            {
                diagnostics.Add(new(ErrorCodes.DuplicateOutput, b.Step.Name,
                    $"Output '{b.Output}' of step '{b.Step.Name}' is the same place as output '{a.Output}' of step '{a.Step.Name}' once symbolic links are followed. Each output belongs to one step."));
            }
        }
    }
}
