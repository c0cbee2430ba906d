namespace MLPipelines.Engine.Execution;

/// <summary>Where the engine reports; the MSBuild task turns these into build messages, tests collect them.</summary>
public interface IPipelineLog
{
    /// <summary>A SPEC log line (started, cached, miss, finished, summary): shown at the default verbosity.</summary>
    void Message(string text);

    /// <summary>Details worth a look under <c>-v:n</c> and above.</summary>
    void Detail(string text);

    /// <summary>For a bug report only (a stack trace): shown at <c>-v:d</c> and above, never to a user at the default verbosity.</summary>
    void Trace(string text);

    /// <summary>One line a step's command wrote to standard output or error.</summary>
    void StepOutput(string step, string line);

    void Warning(PipelineDiagnostic diagnostic);

    void Error(PipelineDiagnostic diagnostic);
}
