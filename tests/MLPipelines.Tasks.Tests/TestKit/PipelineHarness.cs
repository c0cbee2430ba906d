using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Graph;
using MLPipelines.Engine.Store;

namespace MLPipelines.Tasks.Tests.TestKit;

/// <summary>
/// A pipeline in its own project directory, run through the real parser, graph, store and runner: each
/// <see cref="RunAsync"/> is one build. Steps can be redeclared between runs, as a user edits the project.
/// </summary>
internal sealed class PipelineHarness : IDisposable
{
    private readonly List<RawStep> _steps = [];

    public TempDirectory Project { get; } = new();

    public string PipelineName { get; init; } = "p";

    public string ProjectDirectory => Project.Path;

    public string CacheDirectory => Project.Combine(".mlpipelines");

    /// <summary>How the runs open the store (a short busy timeout, another schema); null: the product's defaults.</summary>
    public StoreSettings? StoreSettings { get; set; }

    /// <summary>Declares a step, or redeclares it in place.</summary>
    public PipelineHarness Step(string name, string command, params (string Key, string Value)[] metadata)
    {
        var step = Raw.Step(name, command, metadata);
        var index = _steps.FindIndex(s => s.Name == name);
        if (index >= 0)
        {
            _steps[index] = step;
        }
        else
        {
            _steps.Add(step);
        }

        return this;
    }

    public PipelineOptions Options() => new()
    {
        PipelineName = PipelineName,
        ProjectDirectory = ProjectDirectory,
        CacheDirectory = CacheDirectory,
    };

    /// <summary>The graph of the steps as declared now (what a run of them builds).</summary>
    public PipelineGraph Graph()
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var graph = PipelineGraph.Build(StepParser.Parse(_steps, ProjectDirectory, diagnostics), diagnostics);
        Assert.True(graph is not null && diagnostics.Count == 0, "Invalid test pipeline: " + string.Join("; ", diagnostics));
        return graph;
    }

    public async Task<PipelineRun> RunAsync(
        Func<PipelineOptions, PipelineOptions>? configure = null,
        TimeProvider? clock = null,
        RecordingLog? log = null,
        CancellationToken cancellationToken = default)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        var steps = StepParser.Parse(_steps, ProjectDirectory, diagnostics);
        var graph = PipelineGraph.Build(steps, diagnostics);
        Assert.True(graph is not null && diagnostics.Count == 0, "Invalid test pipeline: " + string.Join("; ", diagnostics));

        log ??= new RecordingLog();
        var options = configure is null ? Options() : configure(Options());
        using var store = CacheStore.Open(CacheDirectory, StoreSettings);
        var runner = new PipelineRunner(options, graph, store, log, clock);
        var result = await runner.RunAsync(cancellationToken);
        return new PipelineRun(result, log, runner.FilesHashed);
    }

    /// <summary>A dry run (<c>PlanPipeline</c>) of the steps as declared now, against the same store a run uses.</summary>
    public IReadOnlyList<PlannedStep>? Plan(Func<PipelineOptions, PipelineOptions>? configure = null, RecordingLog? log = null)
    {
        var options = configure is null ? Options() : configure(Options());
        using var store = CacheStore.Open(CacheDirectory, StoreSettings);
        return new PipelinePlanner(options, Graph(), store, log ?? new RecordingLog()).Plan();
    }

    public CacheStore OpenStore() => CacheStore.Open(CacheDirectory);

    /// <summary>Every object file in the store (not the temp folder).</summary>
    public IReadOnlyList<string> ObjectFiles()
    {
        var objects = Path.Combine(CacheDirectory, "objects");
        var temp = Path.Combine(objects, "tmp");
        return Directory.Exists(objects)
            ? Directory.EnumerateFiles(objects, "*", SearchOption.AllDirectories).Where(f => !f.StartsWith(temp, StringComparison.Ordinal)).ToList()
            : [];
    }

    public void Dispose() => Project.Dispose();
}

/// <summary>One run's result and everything it logged; assertions on it print the log when they fail.</summary>
internal sealed record PipelineRun(PipelineRunResult Result, RecordingLog Log, int FilesHashed)
{
    public StepResult this[string step] => Result.Steps.Single(s => s.Name == step);

    public PipelineRun AssertOutcome(string step, StepOutcome expected)
    {
        var actual = this[step].Outcome;
        Assert.True(actual == expected, $"Step {step}: expected {expected}, got {actual}.\n{Log}");
        return this;
    }

    public PipelineRun AssertNoDiagnostics()
    {
        Assert.True(Log.Errors.Count == 0 && Log.Warnings.Count == 0, "Unexpected diagnostics.\n" + Log);
        return this;
    }

    public PipelineDiagnostic SingleError(string code)
    {
        var matches = Log.Errors.Where(e => e.Code == code).ToList();
        Assert.True(matches.Count == 1, $"Expected one {code} error.\n{Log}");
        return matches[0];
    }

    public PipelineDiagnostic SingleWarning(string code)
    {
        var matches = Log.Warnings.Where(e => e.Code == code).ToList();
        Assert.True(matches.Count == 1, $"Expected one {code} warning.\n{Log}");
        return matches[0];
    }

    public void AssertMessage(string text) =>
        Assert.True(Log.Messages.Contains(text), $"Expected the message '{text}'.\n{Log}");

    public void AssertNoMessage(string text) =>
        Assert.False(Log.Messages.Contains(text), $"Did not expect the message '{text}'.\n{Log}");

    /// <summary>The one message starting with <paramref name="prefix"/>.</summary>
    public string Message(string prefix)
    {
        var matches = Log.Messages.Where(m => m.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        Assert.True(matches.Count == 1, $"Expected one message starting with '{prefix}'.\n{Log}");
        return matches[0];
    }
}
