using System.Text;
using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Graph;
using MLPipelines.Engine.Store;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Configuration;

/// <summary>
/// SPEC "Failure and bad input": whatever a project holds, loading it ends in a valid pipeline or in MLP1xxx/MLP2xxx
/// diagnostics, never an exception (which a build reports as MLP4003). Random steps (seeded; the seed is in every
/// failure message) with random, huge, unicode, NUL-laden and escape-laden values in every metadata go through the
/// same path as a build: <see cref="StepParser"/>, <see cref="PipelineGraph"/>, <see cref="OutputLocations"/>, the
/// property parsers, and a <see cref="PipelinePlanner"/> dry run that computes every key. No command runs:
/// <c>CacheKeyCommand</c> is the one metadata left out, since planning runs it.
/// </summary>
public sealed class ConfigurationFuzzTests : IDisposable
{
    private const int Cases = 400;

    // Pieces values are made of: what users write, what breaks parsers, and what breaks paths and terminals.
    private static readonly string[] Atoms =
    [
        "", " ", "a", "step", "data/a.csv", "data/", "lib/", "out/", "out/x.bin", "model/", "data/**/*.csv", "*.csv", "**", "?",
        "[a-", "..", "../", "../../etc/passwd", "/", "/etc/passwd", "/tmp/", ".", "./", ".mlpipelines/", ".mlpipelines/objects",
        "\\", "C:\\x", "a\\..\\..\\b", "//server/share", "~", "$HOME", "%3B", "%24(X)", "@(Step)", "$(Gamma)", "%(Identity)",
        "&amp;", "&#0;", "&lt;x&gt;", "<![CDATA[", "\0", "a\0b", "%00", "\u0001", "\n", "\r\n", "\t", "\u001b[31m",
        "\u202Eevil", "\u05D0\u05D1", "e\u0301", "\uD83D\uDE00", "\uD800", "\uDC00", "\uFFFE", "\uFEFF", "\u00A0",
        "=", "==", "A=1", "1A=2", "_=x", "A=", "=v", "A B=1", ";", ";;", ",", "true", "false", "True", " false ", "yes", "1",
        "0", "-1", "NaN", "Infinity", "-Infinity", "1e308", "1e-320", "922337203685.4775807", "922337203685", "9999999999999999999",
        "10675199.02:48:05.4775807", "10675199.02:48:05.4775808", "-1.00:00:00", "00:00:00", "1.00:00:00", "CodeHash", "InputHash",
        "codehash", "CodeHash,InputHash", "7", "v1", "v-2_x", "1.0", "m", "s0", "s1", "s2", "S0",
    ];

    private readonly TempDirectory _project = new();

    public ConfigurationFuzzTests()
    {
        _project.Write("data/a.csv", "x,y\n1,2\n");
        _project.Write("data/sub/b.csv", "3,4\n");
        _project.Write("lib/x.py", "print(1)\n");
    }

    public void Dispose() => _project.Dispose();

    [Fact]
    public void RandomConfigurationsLoadOrGiveConfigurationErrorsButNeverThrow()
    {
        var seed = Environment.GetEnvironmentVariable("MLP_FUZZ_SEED") is { } given ? int.Parse(given, System.Globalization.CultureInfo.InvariantCulture) : Random.Shared.Next();
        using var store = CacheStore.Open(_project.Combine(".mlpipelines"));
        for (var i = 0; i < Cases; i++)
        {
            var random = new Random(seed + i);
            var steps = Enumerable.Range(0, random.Next(1, 5)).Select(n => RandomStep(random, n)).ToList();
            var properties = Enumerable.Range(0, 8).Select(_ => random.Next(3) == 0 ? RandomValue(random) : null).ToArray();
            var log = new RecordingLog();
            try
            {
                Load(steps, properties, store, log, $"fuzz{i}");
            }
            catch (Exception e)
            {
                Assert.Fail($"Case {i} of seed {seed} (rerun with MLP_FUZZ_SEED={seed}) threw {e}\nSteps: {Describe(steps)}\nProperties: {Describe(properties)}");
            }

            var wrong = log.Errors.Concat(log.Warnings).Where(d => !(d.Code.StartsWith("MLP1", StringComparison.Ordinal) || d.Code.StartsWith("MLP2", StringComparison.Ordinal))).ToList();
            Assert.True(wrong.Count == 0, $"Case {i} of seed {seed}: unexpected {string.Join("; ", wrong)}\nSteps: {Describe(steps)}");
        }
    }

    /// <summary>What a build does before its first step runs (PipelineTask.LoadPipeline), then a dry run.</summary>
    private void Load(List<RawStep> rawSteps, string?[] properties, CacheStore store, RecordingLog log, string pipeline)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var options = new PipelineOptions
        {
            PipelineName = pipeline,
            ProjectDirectory = _project.Path,
            CacheDirectory = _project.Combine(".mlpipelines"),
            CacheEnabledByDefault = PropertyParser.ParseBool(properties[0], "EnablePipelineCache", diagnostics) ?? true,
            MaxParallelism = PropertyParser.ParsePositiveInt(properties[1], "PipelineMaxParallelism", diagnostics) ?? 2,
            CacheMaxAge = PropertyParser.ParseDuration(properties[2], "PipelineCacheMaxAge", diagnostics) ?? TimeSpan.FromDays(28),
            CacheMaxSizeBytes = PropertyParser.ParseSize(properties[3], "PipelineCacheMaxSize", diagnostics),
            LockTimeout = PropertyParser.ParseDuration(properties[4], "PipelineLockTimeout", diagnostics, allowZero: true) ?? TimeSpan.Zero,
            SelectedSteps = StepParser.SplitList(properties[5] ?? ""),
            ForcedSteps = StepParser.SplitList(properties[6] ?? ""),
            ResumeFrom = ResumePoint.Parse(properties[7]),
        };

        var steps = StepParser.Parse(rawSteps, options.ProjectDirectory, diagnostics);
        var graph = diagnostics.Count == 0 ? PipelineGraph.Build(steps, diagnostics) : null;
        if (graph is not null)
        {
            OutputLocations.Check(graph.Steps, options.ProjectDirectory, diagnostics);
            if (diagnostics.Count == 0 && options.SelectedSteps.All(graph.Contains))
            {
                new PipelinePlanner(options, graph, store, log).Plan();
            }
        }

        diagnostics.ForEach(log.Error);
    }

    private static RawStep RandomStep(Random random, int index)
    {
        var name = random.Next(4) == 0 ? RandomValue(random) : $"s{index}";
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var key in StepParser.MetadataNames.Where(k => k != "CacheKeyCommand"))
        {
            // Most steps are mostly valid, so the graph, the output checks and the keys are reached too.
            if (random.Next(3) == 0)
            {
                metadata[key] = RandomValue(random);
            }
        }

        metadata.TryAdd("Command", "true");
        metadata.TryAdd("Outputs", $"out{index}/");
        return new RawStep(name, metadata);
    }

    private static string RandomValue(Random random)
    {
        if (random.Next(60) == 0)
        {
            // Huge: a megabyte of one atom, or of random characters (any UTF-16 unit, lone surrogates included).
            var atom = Atoms[random.Next(Atoms.Length)] + "/";
            return random.Next(2) == 0
                ? new StringBuilder(1 << 20).Insert(0, atom, (1 << 20) / atom.Length).ToString()
                : new string(Enumerable.Range(0, 1 << 20).Select(_ => (char)random.Next(char.MaxValue + 1)).ToArray());
        }

        var text = new StringBuilder();
        var parts = random.Next(1, 5);
        for (var p = 0; p < parts; p++)
        {
            text.Append(random.Next(8) == 0 ? (char)random.Next(char.MaxValue + 1) : Atoms[random.Next(Atoms.Length)]);
            if (random.Next(3) == 0)
            {
                text.Append(";/=:,"[random.Next(5)]);
            }
        }

        return text.ToString();
    }

    private static string Describe(IEnumerable<RawStep> steps) =>
        string.Join(" | ", steps.Select(s => $"{Escape(s.Name)}: " + string.Join(", ", s.Metadata.Select(m => $"{m.Key}={Escape(m.Value)}"))));

    private static string Describe(IEnumerable<string?> values) => string.Join(", ", values.Select(v => v is null ? "-" : Escape(v)));

    private static string Escape(string text) => text.Length > 200 ? $"<{text.Length} chars>" : StepParser.Shown(text);
}
