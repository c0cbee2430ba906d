using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Graph;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Tasks.Tests.Graph;

/// <summary>
/// The graph looks outputs up by path instead of comparing every pair of steps (issue 9). These pipelines of a few
/// hundred steps check that the lookups give exactly what the walk over every pair gives: the same edges in the same
/// order, the same whole-output edges, the same producers and the same MLP1006 reports.
/// </summary>
public sealed class PipelineGraphScaleTests
{
    private const int Levels = 6;
    private const int PerLevel = 50;

    /// <summary>Steps of level L write below <c>lvL/</c> and read (by file, folder, glob, code, working directory,
    /// project source) only what lower levels write, so the pipeline is valid and acyclic.</summary>
    private static (List<StepDefinition> Steps, Dictionary<string, IReadOnlyList<string>> Projects) Generate(int seed)
    {
        var random = new Random(seed);
        var steps = new List<StepDefinition>();
        var projects = new Dictionary<string, IReadOnlyList<string>>();
        for (var k = 0; k < 8; k++)
        {
            projects[$"tools/t{k}/t{k}.csproj"] = [$"tools/t{k}/Program.cs", $"tools/t{k}/t{k}.csproj", "shared/Linked.cs"];
        }

        string Name(int level, int index) => $"L{level}s{index:000}";

        // What a step of (level, index) writes: a file, a folder, or both; some level-0 steps build a tool.
        List<string> OutputsOf(int level, int index) => (index % 5) switch
        {
            0 => [$"lv{level}/s{index}/"],
            1 => [$"lv{level}/s{index}.txt", $"lv{level}/deep/s{index}/part.csv"],
            2 when level == 0 && index < 16 => [$"tools/t{index % 8}/bin{index}/"],
            _ => [$"lv{level}/s{index}.txt"],
        };

        for (var level = 0; level < Levels; level++)
        {
            for (var index = 0; index < PerLevel; index++)
            {
                var inputs = new List<string> { $"raw/r{random.Next(20)}.csv" };
                var code = new List<string>();
                var fileDependencies = new List<string>();
                var sources = new List<string>();
                var dependsOn = new List<string>();
                var workingDirectory = "";
                for (var n = random.Next(level == 0 ? 0 : 6); n > 0; n--)
                {
                    var (l, i) = (random.Next(level), random.Next(PerLevel));
                    var outputs = OutputsOf(l, i);
                    var output = outputs[random.Next(outputs.Count)];
                    switch (random.Next(12))
                    {
                        case 0: inputs.Add(output); break;
                        case 1: inputs.Add(ProjectPath.IsDirectory(output) ? output + "x/y.bin" : output); break;
                        case 2: inputs.Add($"lv{l}/"); break; // a whole level: many producers
                        case 3: inputs.Add($"lv{l}/*.txt"); break;
                        case 4: inputs.Add($"lv{l}/**/part.csv"); break;
                        case 5: inputs.Add($"lv{l}/s{i}*"); break;
                        case 6: code.Add(output.TrimEnd('/')); break;
                        case 7: fileDependencies.Add(output); break;
                        case 8: workingDirectory = ProjectPath.IsDirectory(output) ? output + "sub" : $"lv{l}"; break;
                        case 9: sources.Add($"tools/t{random.Next(8)}/t{random.Next(8)}.csproj"); break;
                        case 10: sources.Add($"lv{l}/deep/"); break;
                        default: dependsOn.Add(Name(l, i)); break;
                    }
                }

                steps.Add(new StepDefinition
                {
                    Name = Name(level, index),
                    Command = "run",
                    Inputs = inputs,
                    Outputs = OutputsOf(level, index),
                    Code = code,
                    FileDependencies = fileDependencies,
                    SourceDependencies = sources,
                    DependsOn = dependsOn,
                    WorkingDirectory = workingDirectory,
                });
            }
        }

        // Declared out of order, as users do: the graph orders them.
        return (steps.OrderBy(_ => random.Next()).ToList(), projects);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void InferredEdgesOfAFewHundredStepsAreThePairwiseAnswer(int seed)
    {
        var (steps, projects) = Generate(seed);
        var diagnostics = new List<PipelineDiagnostic>();

        var graph = PipelineGraph.Build(steps, diagnostics, projects);

        Assert.Empty(diagnostics);
        Assert.NotNull(graph);
        var (upstream, whole) = Pairwise(steps, projects);
        Assert.True(upstream.Values.Sum(u => u.Count) > steps.Count, "the generated pipeline has edges to check");
        Assert.True(whole.Values.Sum(u => u.Count) > 5, "the generated pipeline has whole-output edges to check");
        foreach (var step in steps)
        {
            Assert.Equal(upstream[step.Name], graph.UpstreamOf(step.Name));
            Assert.Equal(whole[step.Name], graph.InferredWholeUpstreamOf(step.Name));
        }

        foreach (var file in steps.SelectMany(s => s.Outputs).Select(o => o + (ProjectPath.IsDirectory(o) ? "f.bin" : "")).Append("raw/r1.csv").Append("lv1/"))
        {
            Assert.Equal(graph.Steps.FirstOrDefault(s => s.Outputs.Any(o => ProjectPath.IsUnder(file, o)))?.Name, graph.ProducerOf(file));
        }
    }

    [Fact]
    public void OverlappingOutputsAmongAFewHundredStepsAreReportedAsThePairwiseWalkReportsThem()
    {
        var steps = Enumerable.Range(0, 300).Select(i => new StepDefinition
        {
            Name = $"s{i:000}",
            Command = "run",
            Outputs = (i % 37) switch
            {
                0 => ["shared/"],
                1 => [$"shared/s{i}.txt", $"own/s{i}.txt"],
                2 => [$"own/s{i - 1}.txt"],
                3 => ["own/"],
                _ => [$"own/s{i}.txt", $"dir/s{i}/"],
            },
        }).ToList();
        var diagnostics = new List<PipelineDiagnostic>();

        Assert.Null(PipelineGraph.Build(steps, diagnostics));

        var expected = new List<string>();
        for (var i = 0; i < steps.Count; i++)
        {
            foreach (var output in steps[i].Outputs)
            {
                for (var j = i + 1; j < steps.Count; j++)
                {
                    expected.AddRange(steps[j].Outputs.Where(o => ProjectPath.Overlaps(o, output)).Select(other =>
                        $"{steps[j].Name}: Output '{other}' of step '{steps[j].Name}' is also declared by step '{steps[i].Name}' ('{output}'). Each output belongs to one step."));
                }
            }
        }

        Assert.True(expected.Count > 300);
        Assert.All(diagnostics, d => Assert.Equal(ErrorCodes.DuplicateOutput, d.Code));
        Assert.Equal(expected, diagnostics.Select(d => $"{d.Step}: {d.Message}"));
    }

    /// <summary>The edges as the graph inferred them before it had an index: every consumer against every producer.</summary>
    private static (Dictionary<string, List<string>> Upstream, Dictionary<string, List<string>> Whole) Pairwise(
        List<StepDefinition> steps, Dictionary<string, IReadOnlyList<string>> projects)
    {
        var upstream = steps.ToDictionary(s => s.Name, s => s.DependsOn.Distinct().ToList());
        var whole = steps.ToDictionary(s => s.Name, _ => new List<string>());
        var reads = new Dictionary<(string, string), bool>(); // A glob compiles at every call: each pair is asked once.
        bool Reads(string input, string output) =>
            reads.TryGetValue((input, output), out var answer) ? answer : reads[(input, output)] = PathOverlap.InputReadsOutput(input, output);
        foreach (var consumer in steps)
        {
            var declared = upstream[consumer.Name].ToList();
            var files = consumer.Inputs.Concat(consumer.Code).Concat(consumer.FileDependencies)
                .Concat(consumer.SourceDependencies.SelectMany(d => projects.TryGetValue(d, out var sources) ? [d, .. sources] : new[] { d }))
                .ToList();
            var folders = consumer.SourceDependencies.Where(projects.ContainsKey).Select(d => d[..(d.LastIndexOf('/') + 1)]).ToList();
            foreach (var producer in steps.Where(p => p != consumer))
            {
                var isWhole = producer.Outputs.Any(o => consumer.WorkingDirectory.Length > 0 && ProjectPath.IsUnder(consumer.WorkingDirectory, o)) ||
                              producer.Outputs.Any(o => folders.Any(f => ProjectPath.Overlaps(o, f)));
                if (isWhole && !declared.Contains(producer.Name))
                {
                    whole[consumer.Name].Add(producer.Name);
                }

                if (!upstream[consumer.Name].Contains(producer.Name) &&
                    (isWhole || producer.Outputs.Any(o => files.Any(f => Reads(f, o)))))
                {
                    upstream[consumer.Name].Add(producer.Name);
                }
            }
        }

        return (upstream, whole);
    }
}
