using System.Globalization;

namespace MLPipelines.Engine.Configuration;

/// <summary>Parses the pipeline properties (SPEC "Properties"); a bad value is an MLP1014 error naming the property.</summary>
public static class PropertyParser
{
    /// <summary>The properties a project or the command line sets for MLPipelines.Sdk (README "Properties").</summary>
    public static readonly IReadOnlyList<string> PropertyNames =
    [
        "PipelineName", "EnablePipelineCache", "PipelineCacheDir", "PipelineSteps", "PipelineForce", "PipelineResumeFrom",
        "PipelineMaxParallelism", "PipelineCacheMaxAge", "PipelineRunHistoryLimit", "PipelineCacheMaxSize", "PipelineRemoteCache",
        "PipelineRemoteCacheMode", "PipelineLockTimeout", "PipelineSummaryFile", "PipelinePlanFormat", "PipelinePlanFile",
        "PipelineGraphFormat", "PipelineGraphFile", "PipelineRunsLimit", "PipelineRun", "PipelineCompare", "PipelineKeyPlatform",
        "PipelineContinueOnError", "PipelineReplayLogs", "PipelineStrictEnvironment", "PipelinePassThroughEnvironment",
        "RunPipelineBeforeBuild",
    ];

    /// <summary>
    /// MLP1082 warnings for the build's global properties (<c>-p:</c>) whose names are not ours but close to one of
    /// ours (<c>-p:PipelineStep=train</c>, <c>-p:PipelinForce=*</c>): MSBuild accepts any property, so the build would
    /// run as if it had not been given (every step, nothing forced). A warning, not an error: a global property may be
    /// the project's own.
    /// </summary>
    public static IEnumerable<PipelineDiagnostic> MisspeltGlobalProperties(IEnumerable<string> globalPropertyNames) =>
        NameSuggestion.MisspeltMetadata(globalPropertyNames, PropertyNames).Select(typo => new PipelineDiagnostic(ErrorCodes.MisspeltProperty, null,
            $"Property '{StepParser.Shown(typo.Given)}' (given with -p:) is not one MLPipelines.Sdk reads: did you mean '{typo.Meant}'? As given it changes nothing. " +
            $"Its properties: {string.Join(", ", PropertyNames)}."));

    /// <summary>
    /// <c>PipelinePassThroughEnvironment</c>: names (<c>;</c> or <c>,</c> between them) or <c>PREFIX*</c>. A name no
    /// variable can have (<c>=</c>, whitespace, a <c>*</c> or <c>?</c> elsewhere than at the end) would pass nothing
    /// through, silently: MLP1014, naming it.
    /// </summary>
    public static IReadOnlyList<string> ParsePassThrough(string? text, List<PipelineDiagnostic> diagnostics)
    {
        // SplitNames, not SplitStepNames: on Unix FOO and Foo are two variables, so no name is dropped as a duplicate.
        var names = StepParser.SplitNames(text);
        foreach (var invalid in names.Where(n => !StepParser.IsEnvironmentVariableName(n.EndsWith('*') ? n[..^1] : n) && n != "*"))
        {
            diagnostics.Add(new(ErrorCodes.InvalidProperty, null,
                $"Property PipelinePassThroughEnvironment names '{StepParser.Shown(invalid)}', which is not an environment variable name: list names (no '=', spaces or wildcards but a final '*' for a prefix: AWS_*) separated by ';' or ','."));
        }

        return names;
    }

    public static bool? ParseBool(string? text, string property, List<PipelineDiagnostic> diagnostics)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (bool.TryParse(text.Trim(), out var value))
        {
            return value;
        }

        diagnostics.Add(new(ErrorCodes.InvalidProperty, null, $"Property {property}='{text}' is not valid: use true or false."));
        return null;
    }

    /// <summary>A count (<c>PipelineMaxParallelism</c>, <c>PipelineRunHistoryLimit</c>, <c>PipelineRunsLimit</c>): 1 or more; a bad value is MLP1014.</summary>
    public static int? ParsePositiveInt(string? text, string property, List<PipelineDiagnostic> diagnostics)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        // Digits only, as the number of a size or duration (Quantity): no sign, no group separator, no fraction.
        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0)
        {
            return value;
        }

        diagnostics.Add(new(ErrorCodes.InvalidProperty, null, $"Property {property}='{StepParser.Shown(text)}' is not valid: give a whole number of 1 or more (digits only: 4, 1000)."));
        return null;
    }

    /// <summary>
    /// A duration (<see cref="Quantity.TryParseDuration"/>: <c>86400</c>, <c>90m</c>, <c>7d</c>, <c>28.00:00:00</c>);
    /// positive, or with <paramref name="allowZero"/> zero too. A bad value is MLP1014 listing the accepted forms.
    /// </summary>
    public static TimeSpan? ParseDuration(string? text, string property, List<PipelineDiagnostic> diagnostics, bool allowZero = false)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (Quantity.TryParseDuration(text, allowZero, out var value))
        {
            return value;
        }

        diagnostics.Add(new(ErrorCodes.InvalidProperty, null,
            $"Property {property}='{StepParser.Shown(text)}' is not valid: give {(allowZero ? "a duration (0 or more)" : "a positive duration")}: {Quantity.DurationForms}."));
        return null;
    }

    /// <summary>A size in bytes (<see cref="Quantity.TryParseSize"/>: <c>1048576</c>, <c>500MB</c>, <c>1.5G</c>); a bad value is MLP1014 listing the forms.</summary>
    public static long? ParseSize(string? text, string property, List<PipelineDiagnostic> diagnostics)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (Quantity.TryParseSize(text, out var bytes))
        {
            return bytes;
        }

        diagnostics.Add(new(ErrorCodes.InvalidProperty, null, $"Property {property}='{StepParser.Shown(text)}' is not valid: give {Quantity.SizeForms}."));
        return null;
    }
}
