using MLPipelines.Engine;
using MLPipelines.Engine.Execution;

namespace MLPipelines.Tasks.Tests.TestKit;

/// <summary>An <see cref="IPipelineLog"/> that keeps everything in memory; safe for the runner's parallel steps.</summary>
internal sealed class RecordingLog : IPipelineLog
{
    private readonly Lock _lock = new();
    private readonly List<string> _messages = [];
    private readonly List<string> _details = [];
    private readonly List<string> _traces = [];
    private readonly List<(string Step, string Line)> _stepOutput = [];
    private readonly List<PipelineDiagnostic> _warnings = [];
    private readonly List<PipelineDiagnostic> _errors = [];

    /// <summary>Called for every step output line, after it is recorded (a test can react to a line, e.g. cancel).</summary>
    public Action<string, string>? OnStepOutput { get; init; }

    public IReadOnlyList<string> Messages => Snapshot(_messages);
    public IReadOnlyList<string> Details => Snapshot(_details);
    public IReadOnlyList<string> Traces => Snapshot(_traces);
    public IReadOnlyList<(string Step, string Line)> StepOutputs => Snapshot(_stepOutput);
    public IReadOnlyList<PipelineDiagnostic> Warnings => Snapshot(_warnings);
    public IReadOnlyList<PipelineDiagnostic> Errors => Snapshot(_errors);

    public IReadOnlyList<string> LinesOf(string step) => StepOutputs.Where(o => o.Step == step).Select(o => o.Line).ToList();

    /// <summary>Called for every message, before it is recorded: a test can throw here to stand for an unexpected failure in the engine's work on a step.</summary>
    public Action<string>? OnMessage { get; init; }

    public void Message(string text)
    {
        OnMessage?.Invoke(text);
        Add(_messages, text);
    }

    public void Detail(string text) => Add(_details, text);

    public void Trace(string text) => Add(_traces, text);

    public void StepOutput(string step, string line)
    {
        Add(_stepOutput, (step, line));
        OnStepOutput?.Invoke(step, line);
    }

    public void Warning(PipelineDiagnostic diagnostic) => Add(_warnings, diagnostic);

    public void Error(PipelineDiagnostic diagnostic) => Add(_errors, diagnostic);

    /// <summary>Everything, in a readable form: the failure text of an assertion on this log.</summary>
    public override string ToString()
    {
        lock (_lock)
        {
            return string.Join('\n', _messages.Select(m => "message: " + m)
                .Concat(_warnings.Select(w => "warning: " + w))
                .Concat(_errors.Select(e => "error: " + e))
                .Concat(_stepOutput.Select(o => $"{o.Step}> {o.Line}")));
        }
    }

    private void Add<T>(List<T> list, T item)
    {
        lock (_lock)
        {
            list.Add(item);
        }
    }

    private List<T> Snapshot<T>(List<T> list)
    {
        lock (_lock)
        {
            return [.. list];
        }
    }
}
