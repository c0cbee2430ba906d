using System.Collections.Concurrent;
using MLPipelines.Engine;
using MLPipelines.Engine.Execution;
using Microsoft.Build.Framework;

namespace MLPipelines.Tasks;

/// <summary>
/// Carries the engine's reports to MSBuild. Steps report from worker threads, but a task should log from its own
/// thread, so reports are queued and <see cref="Pump"/> writes them on the task's thread as they arrive.
/// </summary>
internal sealed class MSBuildPipelineLog(IBuildEngine engine, Microsoft.Build.Utilities.TaskLoggingHelper log, string projectFile) : IPipelineLog, IDisposable
{
    // The terminal logger hides high-importance messages below -v:d, except the persistent output of a project it
    // sees as running tests (Sdk.targets runs the empty _TestRunStart marker). That is where our log lines go.
    private const string TerminalLoggerOutputType = "TLTESTOUTPUT";

    private readonly ConcurrentQueue<Action> _pending = new();
    private readonly SemaphoreSlim _signal = new(0);

    public void Message(string text) => Enqueue(() => Show(text));

    public void Detail(string text) => Enqueue(() => log.LogMessage(MessageImportance.Normal, text));

    public void Trace(string text) => Enqueue(() => log.LogMessage(MessageImportance.Low, text));

    public void StepOutput(string step, string line) => Enqueue(() => Show($"{step}: {line}"));

    /// <summary>
    /// Where the element a diagnostic is about is declared (a step's <c>&lt;Step&gt;</c>, a tool's
    /// <c>&lt;PipelineTool&gt;</c>), or null: asked, on the task's thread, only for a diagnostic that names one, so
    /// every such error or warning (whatever its code) points at the element.
    /// </summary>
    public Func<PipelineDiagnostic, Engine.Configuration.StepLocation?>? Locate { get; init; }

    // No help keyword: the terminal logger turns one into a go.microsoft.com link that leads nowhere for our codes.
    // The README's error-code table is where a code is explained.
    public void Warning(PipelineDiagnostic diagnostic) => Enqueue(() =>
    {
        var (file, line, column) = Location(diagnostic);
        log.LogWarning(null, diagnostic.Code, null, file, line, column, 0, 0, PipelineDiagnostic.OneLine(diagnostic.Message));
    });

    public void Error(PipelineDiagnostic diagnostic) => Enqueue(() =>
    {
        var (file, line, column) = Location(diagnostic);
        log.LogError(null, diagnostic.Code, null, file, line, column, 0, 0, PipelineDiagnostic.OneLine(diagnostic.Message));
    });

    // The element when it is found; else the file defining the item, or the project file, without a line.
    private (string File, int Line, int Column) Location(PipelineDiagnostic diagnostic) =>
        (diagnostic.Step is not null || diagnostic.Tool is not null) && Locate?.Invoke(diagnostic) is { } at ? (at.File, at.Line, at.Column) : (projectFile, 0, 0);

    /// <summary>Writes queued reports until <paramref name="work"/> completes, then the rest.</summary>
    public void Pump(Task work)
    {
        while (!work.IsCompleted)
        {
            // Woken by a report or by the work's end, whichever comes first: a timed poll would keep the build
            // waiting out its interval after the last report (issue 9: up to 200 ms of every run).
            Task.WaitAny(work, _signal.WaitAsync());
            Drain();
        }

        Drain();
    }

    private void Drain()
    {
        while (_pending.TryDequeue(out var write))
        {
            write();
        }
    }

    private void Show(string text) =>
        engine.LogMessageEvent(new ExtendedBuildMessageEventArgs(TerminalLoggerOutputType, text, null, "RunPipeline", MessageImportance.High));

    public void Dispose() => _signal.Dispose();

    private void Enqueue(Action write)
    {
        _pending.Enqueue(write);
        _signal.Release();
    }
}
