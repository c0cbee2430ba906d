namespace MLPipelines.Engine;

/// <summary>
/// Every message code the product emits. A code, once given a meaning, keeps it; README "Error codes" lists each
/// with its cause and fix. 1xxx configuration, 2xxx step execution, 3xxx store, 4xxx environment and loading, 5xxx
/// the remote cache (never an error: a remote problem costs the sharing, not the build).
/// </summary>
public static partial class ErrorCodes
{
    public const string InvalidStepName = "MLP1001";
    public const string DuplicateStepName = "MLP1002";
    public const string MissingCommand = "MLP1003";
    public const string UnknownDependency = "MLP1004";
    public const string DependencyCycle = "MLP1005";
    public const string DuplicateOutput = "MLP1006";
    public const string OutputOverlapsInput = "MLP1007";
    public const string OutputOutsideProject = "MLP1008";
    public const string InvalidCacheVersion = "MLP1009";
    public const string InvalidExpiresAfter = "MLP1010";
    public const string InvalidNameValuePair = "MLP1011";
    public const string InvalidBoolean = "MLP1012";
    public const string InvalidCacheStrategy = "MLP1013";
    public const string InvalidProperty = "MLP1014";
    public const string UnknownSelectedStep = "MLP1015";
    public const string UnknownResumeStep = "MLP1016";
    public const string UnknownRun = "MLP1017";
    public const string WildcardOutput = "MLP1018";
    public const string OutputInStore = "MLP1019";
    public const string NulCharacter = "MLP1020";
    public const string OutputHoldsProjectFile = "MLP1021";
    public const string InvalidPipelineTool = "MLP1022";
    public const string UnknownStepTool = "MLP1023";

    // 1024-1029: property parsing and step selection (issue 11, items 3, 4, 7 and 14).

    /// <summary>
    /// <c>PipelineSteps</c> given to a target it does not apply to (<c>PrunePipelineCache</c>, <c>ListPipelineRuns</c>):
    /// ignoring it would prune the whole store, or list every run, when the user asked for some steps.
    /// </summary>
    public const string PropertyNotForTarget = "MLP1024";

    /// <summary>
    /// An <c>EnvironmentDependencies</c> entry that no environment variable can be named (<c>SEED OTHER</c>, <c>SE*</c>,
    /// <c>A=B</c>): it would be keyed as an always-unset variable, so a change to the variable meant would still hit.
    /// </summary>
    public const string InvalidEnvironmentDependency = "MLP1025";

    // 1030 and up: the remote cache's properties (issue 10), numbered apart from the step checks added beside them.
    public const string InvalidRemoteCacheUrl = "MLP1030";
    public const string InvalidRemoteCacheMode = "MLP1031";

    // 1040 and up: run records, metrics and comparisons (issue 11).
    /// <summary>A step's <c>Metrics</c> file is not one of its outputs (nor below an output directory).</summary>
    public const string MetricsNotAnOutput = "MLP1040";

    /// <summary><c>PipelineCompare</c> names one run, and the pipeline has no earlier run to compare it with.</summary>
    public const string NoRunToCompare = "MLP1041";

    // 1060 and up: the plan and the graph (issue 11).
    /// <summary><c>PipelineGraphFormat</c> is neither <c>mermaid</c> nor <c>dot</c>.</summary>
    public const string InvalidGraphFormat = "MLP1060";

    /// <summary>The file <c>PipelinePlanFile</c> or <c>PipelineGraphFile</c> names cannot be written.</summary>
    public const string ReportFileNotWritable = "MLP1061";

    // 1080 and up: a misspelt name or value that would otherwise change nothing, silently (issue 11, item 4).

    /// <summary>
    /// An <c>IgnoredInputs</c> entry names neither a parameter of its step nor a path that can be among its inputs:
    /// it would leave nothing out of the key, so what the user meant to leave out still counts.
    /// </summary>
    public const string IgnoredInputMatchesNothing = "MLP1080";

    /// <summary>
    /// Warning: a <c>Step</c> or <c>PipelineTool</c> metadata name that is not ours but close to one of ours
    /// (<c>Ouputs</c>, <c>Input</c>, <c>DependOn</c>, <c>VersionComand</c>). MSBuild accepts any metadata, and a
    /// project may carry its own, so this is a warning, naming the metadata meant.
    /// </summary>
    public const string MisspeltMetadata = "MLP1081";

    /// <summary>
    /// Warning: a global property (<c>-p:</c>) whose name is not ours but close to one of ours (<c>PipelineStep</c>,
    /// <c>PipelinForce</c>): the build would run as if it had not been given.
    /// </summary>
    public const string MisspeltProperty = "MLP1082";

    public const string StepFailed = "MLP2001";
    public const string OutputMissing = "MLP2002";
    public const string StepCouldNotStart = "MLP2003";
    public const string StepCancelled = "MLP2004";
    public const string InputMissing = "MLP2005";
    public const string CacheKeyCommandFailed = "MLP2006";
    public const string ResumeUnavailable = "MLP2007";
    public const string RecursiveRun = "MLP2008";
    public const string InputChangedDuringStep = "MLP2009";
    public const string OutputsNotWritable = "MLP2011";
    public const string InputGlobMatchesNothing = "MLP2010";
    public const string ToolVersionFailed = "MLP2012";

    /// <summary>
    /// Warning: a step's metrics file is missing, not JSON, not a flat object, or holds values that are not numbers;
    /// the numbers it does hold are recorded and the build goes on (as DVC does).
    /// </summary>
    public const string MetricsUnreadable = "MLP2020";

    public const string StoreUnavailable = "MLP3001";
    public const string DamagedEntry = "MLP3002";
    public const string StoreWriteFailed = "MLP3003";
    public const string StoreReset = "MLP3004";
    public const string PipelineLockTimeout = "MLP3005";
    public const string UncacheableOutput = "MLP3006";
    public const string StoreFromNewerVersion = "MLP3007";
    public const string StoreBusy = "MLP3008";

    public const string UnsupportedHost = "MLP4001";
    public const string NativeLibraryMissing = "MLP4002";
    public const string UnexpectedFailure = "MLP4003";
    public const string ReportNotWritten = "MLP4004";
}

/// <summary>A user-facing problem: code, the step it concerns (if any) and a message that says what to do.</summary>
public sealed partial record PipelineDiagnostic(string Code, string? Step, string Message)
{
    /// <summary>The <c>PipelineTool</c> the diagnostic is about (MLP1022, MLP2012), so it points at that element as a step's does at its <c>Step</c>.</summary>
    public string? Tool { get; init; }

    /// <summary>
    /// Which declaration of <see cref="Step"/> or <see cref="Tool"/> (0-based, in declaration order) it is about: a
    /// name declared twice is reported at its second element, the one to remove, not at the first.
    /// </summary>
    public int Occurrence { get; init; }

    public override string ToString() => $"{Code}: {Message}";

    /// <summary>
    /// <paramref name="message"/> as one line of plain text: MSBuild writes each line of a message as a separate error
    /// (the file, line and code repeated) and a CI annotation would be cut at the first, so a line break inside a
    /// value (a path given with <c>%0A</c>, an exception's text) is shown as <c>\n</c>; a terminal's colour codes
    /// (a tool's red <c>error:</c> quoted from its standard error) are dropped, and any other control character
    /// becomes a space.
    /// </summary>
    public static string OneLine(string message)
    {
        if (!message.Any(char.IsControl))
        {
            return message;
        }

        var text = AnsiEscape().Replace(message, "");
        var line = new System.Text.StringBuilder(text.Length);
        foreach (var c in text)
        {
            line.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\t",
                _ when char.IsControl(c) => " ",
                _ => c.ToString(),
            });
        }

        return line.ToString();
    }

    // ESC [ parameters intermediates final (SGR colours, cursor moves) and ESC ] … BEL/ST (titles, hyperlinks).
    [System.Text.RegularExpressions.GeneratedRegex(@"\x1B(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1B]*(\x07|\x1B\\)?|[@-Z\\-_])")]
    private static partial System.Text.RegularExpressions.Regex AnsiEscape();
}

/// <summary>5xxx: the remote cache (issue 10). Warnings only: a remote problem costs the sharing, never the build.</summary>
public static partial class ErrorCodes
{
    /// <summary>The server could not be reached: connection refused or reset, unknown host, TLS failure.</summary>
    public const string RemoteUnreachable = "MLP5001";

    /// <summary>A request took longer than its time limit.</summary>
    public const string RemoteTimeout = "MLP5002";

    /// <summary>The server answered 5xx, or a status the protocol does not expect (a PUT refused with 405 or 413).</summary>
    public const string RemoteServerError = "MLP5003";

    /// <summary>The server answered 401 or 403: credentials missing or wrong.</summary>
    public const string RemoteAuthFailed = "MLP5004";

    /// <summary>A signing key is set and an entry is unsigned or its signature does not match: it is never restored.</summary>
    public const string RemoteEntryNotSigned = "MLP5005";

    /// <summary>An entry that is malformed, names another key, or whose manifest leaves the step's outputs.</summary>
    public const string RemoteEntryInvalid = "MLP5006";

    /// <summary>A downloaded object whose content does not match its name (hash) or its size.</summary>
    public const string RemoteObjectTampered = "MLP5007";

    /// <summary>The remote cache failed in a way nothing above names (a bug); the step goes on without it.</summary>
    public const string RemoteUnexpectedFailure = "MLP5008";
}
