using MLPipelines.Engine.Configuration;

namespace MLPipelines.Engine.Graph;

/// <summary>
/// The steps and their edges: declared <c>DependsOn</c> plus inferred ones (a step that reads another step's output
/// depends on it). Built only from a valid configuration; <see cref="Build"/> reports what makes it invalid.
/// </summary>
public sealed class PipelineGraph
{
    private readonly Dictionary<string, StepDefinition> _steps;
    private readonly Dictionary<string, List<string>> _upstream;

    private PipelineGraph(IReadOnlyList<StepDefinition> ordered, Dictionary<string, List<string>> upstream)
    {
        Steps = ordered;
        _steps = ordered.ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);
        _upstream = upstream;
    }

    /// <summary>Steps in a dependency order (upstream first; ties in declaration order).</summary>
    public IReadOnlyList<StepDefinition> Steps { get; }

    public StepDefinition this[string name] => _steps[name];

    public bool Contains(string name) => _steps.ContainsKey(name);

    /// <summary>Direct upstream steps of <paramref name="step"/>.</summary>
    public IReadOnlyList<string> UpstreamOf(string step) => _upstream[step];

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
    public string? ProducerOf(string file) =>
        Steps.FirstOrDefault(s => s.Outputs.Any(o => Paths.ProjectPath.IsUnder(file, o)))?.Name;

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
    public static PipelineGraph? Build(IReadOnlyList<StepDefinition> steps, List<PipelineDiagnostic> diagnostics)
    {
        var errorsBefore = diagnostics.Count;
        var byName = new Dictionary<string, StepDefinition>(StringComparer.OrdinalIgnoreCase);
        foreach (var step in steps)
        {
            if (!byName.TryAdd(step.Name, step))
            {
                diagnostics.Add(new(ErrorCodes.DuplicateStepName, step.Name, $"Step name '{step.Name}' is declared more than once. Step names must be unique."));
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

        CheckOutputs(unique, diagnostics);
        InferEdges(unique, upstream);

        if (diagnostics.Count > errorsBefore)
        {
            return null;
        }

        var ordered = TopologicalOrder(unique, upstream, diagnostics);
        return ordered is null ? null : new PipelineGraph(ordered, upstream);
    }

    private static void CheckOutputs(List<StepDefinition> steps, List<PipelineDiagnostic> diagnostics)
    {
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            foreach (var output in step.Outputs)
            {
                foreach (var input in step.Inputs.Where(input => PathOverlap.InputReadsOutput(input, output)))
                {
                    diagnostics.Add(new(ErrorCodes.OutputOverlapsInput, step.Name,
                        $"Output '{output}' of step '{step.Name}' overlaps its own input '{input}'. A step cannot write what it reads: write to another path."));
                }

                for (var j = i + 1; j < steps.Count; j++)
                {
                    foreach (var other in steps[j].Outputs.Where(o => Paths.ProjectPath.Overlaps(o, output)))
                    {
                        diagnostics.Add(new(ErrorCodes.DuplicateOutput, steps[j].Name,
                            $"Output '{other}' of step '{steps[j].Name}' is also declared by step '{step.Name}' ('{output}'). Each output belongs to one step."));
                    }
                }
            }
        }
    }

    private static void InferEdges(List<StepDefinition> steps, Dictionary<string, List<string>> upstream)
    {
        foreach (var consumer in steps)
        {
            foreach (var producer in steps)
            {
                if (producer != consumer && !upstream[consumer.Name].Contains(producer.Name) &&
                    consumer.Inputs.Any(input => producer.Outputs.Any(output => PathOverlap.InputReadsOutput(input, output))))
                {
                    upstream[consumer.Name].Add(producer.Name);
                }
            }
        }
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
