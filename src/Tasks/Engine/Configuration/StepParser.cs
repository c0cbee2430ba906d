using System.Globalization;
using System.Text.RegularExpressions;
using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Configuration;

/// <summary>A step as MSBuild hands it over: the item's name and its metadata, still text.</summary>
public sealed record RawStep(string Name, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Turns raw step metadata into <see cref="StepDefinition"/>s. Every problem becomes a diagnostic naming the step,
/// so one build reports all of a project's mistakes at once instead of the first.
/// </summary>
public static partial class StepParser
{
    public static IReadOnlyList<StepDefinition> Parse(IEnumerable<RawStep> rawSteps, string projectDirectory, List<PipelineDiagnostic> diagnostics)
    {
        var steps = new List<StepDefinition>();
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in rawSteps)
        {
            var before = diagnostics.Count;
            var step = ParseOne(raw, projectDirectory, diagnostics);

            // A name declared twice: this item's errors point at its own element, not at the first one of that name.
            var name = raw.Name.Trim();
            var occurrence = seen.GetValueOrDefault(name);
            seen[name] = occurrence + 1;
            for (var i = before; occurrence > 0 && i < diagnostics.Count; i++)
            {
                diagnostics[i] = diagnostics[i] with { Occurrence = occurrence };
            }

            if (step is not null)
            {
                steps.Add(step);
            }
        }

        CheckIgnoredInputs(steps, projectDirectory, diagnostics);
        return steps;
    }

    private static StepDefinition? ParseOne(RawStep raw, string projectDirectory, List<PipelineDiagnostic> diagnostics)
    {
        var name = raw.Name.Trim();
        var errorsBefore = diagnostics.Count;
        void Error(string code, string message) => diagnostics.Add(new PipelineDiagnostic(code, name, message));

        if (!StepNamePattern().IsMatch(name))
        {
            Error(ErrorCodes.InvalidStepName, $"Step name '{Shown(name)}' is not valid: use letters, digits, '.', '-' and '_' only.");
        }

        // A NUL (MSBuild's %00) cannot reach a command line, an environment variable or a file path (each is a C
        // string to the operating system), so the step would run something else than its key says, or crash on a path.
        var withNul = MetadataNames.Where(k => raw.Metadata.TryGetValue(k, out var v) && v.Contains('\0', StringComparison.Ordinal)).ToList();
        foreach (var key in withNul)
        {
            Error(ErrorCodes.NulCharacter, $"{key} of step '{Shown(name)}' holds a NUL character (%00), which no command, environment variable or file path can carry. Remove it.");
        }

        if (withNul.Count > 0)
        {
            return null; // Its paths would throw below; its other mistakes are reported once the NUL is gone.
        }

        string Get(string key) => raw.Metadata.TryGetValue(key, out var value) ? value.Trim() : "";

        var command = Get("Command");
        if (command.Length == 0)
        {
            Error(ErrorCodes.MissingCommand, $"Step '{name}' has no Command. Set Command=\"...\" to the command line the step runs.");
        }

        bool Bool(string key, bool fallback) => ParseBool(Get(key), fallback, key, name, diagnostics) ?? fallback;

        var outputs = new List<string>();
        foreach (var output in SplitList(Get("Outputs")))
        {
            // Our choice, as Bazel's and DVC's: a wildcard cannot say which files the step writes, so they could be
            // neither removed before it runs nor restored exactly; the step's directory can.
            if (ProjectPath.IsGlob(output))
            {
                var directory = new Glob(output.Replace('\\', '/')).BaseDirectory;
                Error(ErrorCodes.WildcardOutput, directory.Length > 0
                    ? $"Output '{output}' of step '{name}' is a wildcard; declare the directory ('{directory}/') or the files."
                    : $"Output '{output}' of step '{name}' is a wildcard; declare the files, or write them into a directory and declare that.");
                continue;
            }

            if (!ProjectPath.TryNormalize(projectDirectory, output, out var normalized) || normalized.Length == 0)
            {
                Error(ErrorCodes.OutputOutsideProject,
                    $"Output '{output}' of step '{name}' is outside the project directory (or is the project directory itself). Outputs must lie below the project directory so they can be restored there.");
                continue;
            }

            outputs.Add(normalized);
        }

        var metrics = ParseMetrics(SplitList(Get("Metrics")), outputs, projectDirectory, name, diagnostics);

        var cacheVersion = Get("CacheVersion");
        if (cacheVersion.Length > 0 && !CacheVersionPattern().IsMatch(cacheVersion))
        {
            Error(ErrorCodes.InvalidCacheVersion, $"CacheVersion '{cacheVersion}' of step '{name}' is not valid: use letters, digits, '-' and '_' only.");
        }

        TimeSpan? expiresAfter = null;
        var expiresText = Get("ExpiresAfter");
        if (expiresText.Length > 0)
        {
            expiresAfter = ParseDuration(expiresText);
            if (expiresAfter is null)
            {
                Error(ErrorCodes.InvalidExpiresAfter,
                    $"ExpiresAfter '{Shown(expiresText)}' of step '{name}' is not valid: give a positive duration: {Quantity.DurationForms}.");
            }
        }

        var strategy = CacheStrategy.CodeHash;
        var strategyText = Get("CacheStrategy");
        // Names only: Enum.TryParse would also take "1", "7" or "CodeHash,InputHash".
        if (strategyText.Length > 0 && !(Enum.GetNames<CacheStrategy>().Contains(strategyText, StringComparer.OrdinalIgnoreCase) &&
                                         Enum.TryParse(strategyText, ignoreCase: true, out strategy)))
        {
            Error(ErrorCodes.InvalidCacheStrategy, $"CacheStrategy '{strategyText}' of step '{name}' is not valid: use CodeHash or InputHash.");
        }

        var tools = ParseTools(Get("Tools"), name, diagnostics);
        var inputs = NormalizeAll(projectDirectory, SplitList(Get("Inputs")));
        var parameters = ParsePairs(Get("Parameters"), "Parameters", name, diagnostics);
        var ignoredInputs = SplitIgnoredInputs(Get("IgnoredInputs"), parameters);

        var step = new StepDefinition
        {
            Name = name,
            Command = command,
            WorkingDirectory = NormalizeAll(projectDirectory, [Get("WorkingDirectory")]).FirstOrDefault()?.TrimEnd('/') ?? "",
            Environment = ParsePairs(Get("Environment"), "Environment", name, diagnostics),
            DependsOn = SplitStepNames(Get("DependsOn")),
            Inputs = inputs,
            Outputs = outputs,
            PersistOutputs = Bool("PersistOutputs", false),
            Parameters = parameters,
            Metrics = metrics,
            Code = NormalizeAll(projectDirectory, SplitList(Get("Code"))),
            EnableCache = ParseBool(Get("EnableCache"), null, "EnableCache", name, diagnostics),
            CacheStrategy = strategy,
            IncludeStepCode = Bool("IncludeStepCode", true),
            IncludeStepParameters = Bool("IncludeStepParameters", true),
            IncludeArtifactValues = Bool("IncludeArtifactValues", true),
            IncludeArtifactIds = Bool("IncludeArtifactIds", false),
            IgnoredInputs = ignoredInputs,
            FileDependencies = NormalizeAll(projectDirectory, SplitList(Get("FileDependencies"))),
            SourceDependencies = NormalizeAll(projectDirectory, SplitList(Get("SourceDependencies"))),
            EnvironmentDependencies = ParseEnvironmentDependencies(Get("EnvironmentDependencies"), name, diagnostics),
            CacheKeyCommand = Get("CacheKeyCommand") is { Length: > 0 } keyCommand ? keyCommand : null,
            CacheVersion = cacheVersion.Length > 0 ? cacheVersion : null,
            ExpiresAfter = expiresAfter,
            Tools = tools,
            Platform = ParseBool(Get("Platform"), null, "Platform", name, diagnostics),
        };

        return diagnostics.Count == errorsBefore ? step : null;
    }

    /// <summary>The <c>&lt;Step&gt;</c> metadata the engine reads (SPEC "<c>&lt;Step&gt;</c> metadata").</summary>
    public static readonly IReadOnlyList<string> MetadataNames =
    [
        "Command", "WorkingDirectory", "Environment", "DependsOn", "Inputs", "Outputs", "PersistOutputs", "Parameters", "Metrics", "Code",
        "EnableCache", "CacheStrategy", "IncludeStepCode", "IncludeStepParameters", "IncludeArtifactValues", "IncludeArtifactIds",
        "IgnoredInputs", "FileDependencies", "SourceDependencies", "EnvironmentDependencies", "CacheKeyCommand", "CacheVersion",
        "ExpiresAfter", "Tools", "Platform",
    ];

    /// <summary>
    /// MLP1081 warnings for <paramref name="raw"/>'s metadata names that are not ours but close to one of ours
    /// (<c>Ouputs</c>, <c>Input</c>, <c>DependOn</c>): MSBuild accepts them, and the step would run as if they were not
    /// there: an input left out of the key, an output never stored, a dependency not waited for.
    /// </summary>
    public static IEnumerable<PipelineDiagnostic> MisspeltMetadata(RawStep raw)
    {
        var name = raw.Name.Trim();
        return NameSuggestion.MisspeltMetadata(raw.Metadata.Keys, MetadataNames).Select(typo => new PipelineDiagnostic(ErrorCodes.MisspeltMetadata, name,
            $"Step '{Shown(name)}' has metadata '{Shown(typo.Given)}', which MLPipelines.Sdk does not read: did you mean '{typo.Meant}'? As written it changes nothing. " +
            $"Rename it; if it is your own metadata, give it a name further from ours ({string.Join(", ", MetadataNames)})."));
    }

    /// <summary>
    /// A step's <c>Metrics</c>: each must be a file the step writes, one of its <c>Outputs</c> or a file below an
    /// output directory (as DVC's metrics are outputs), so a hit restores it and every run can record its values.
    /// Anything else is MLP1040 naming the step.
    /// </summary>
    private static List<string> ParseMetrics(IReadOnlyList<string> raw, List<string> outputs, string projectDirectory, string step, List<PipelineDiagnostic> diagnostics)
    {
        var metrics = new List<string>();
        foreach (var entry in raw)
        {
            var valid = !ProjectPath.IsGlob(entry) && ProjectPath.TryNormalize(projectDirectory, entry, out var path) && path.Length > 0 && !ProjectPath.IsDirectory(path)
                ? path : null;
            if (valid is null || !outputs.Any(o => ProjectPath.IsDirectory(o) ? ProjectPath.IsUnder(valid, o) : valid.Equals(o, ProjectPath.PathComparison)))
            {
                diagnostics.Add(new PipelineDiagnostic(ErrorCodes.MetricsNotAnOutput, step,
                    $"Metrics '{Shown(entry)}' of step '{step}' is not one of its outputs. A metrics file must be a file the step writes: list it in Outputs, or write it below an output directory."));
                continue;
            }

            metrics.Add(valid);
        }

        return metrics;
    }

    /// <summary>
    /// A step's <c>IgnoredInputs</c>: each entry must name one of its <c>Parameters</c> (exactly: the key compares
    /// names case-sensitively) or a path, folder or glob that can meet one of its <c>Inputs</c>. Anything else leaves
    /// nothing out of the key, silently: a typo (<c>Verbsoe</c>, <c>featuers/debug/</c>) would keep in the key what the
    /// user believes is left out, and nobody would know. MLP1080 names the step, the entry and what it could name.
    /// </summary>
    private static void CheckIgnoredInputs(IReadOnlyList<StepDefinition> steps, string projectDirectory, List<PipelineDiagnostic> diagnostics)
    {
        foreach (var step in steps)
        {
            foreach (var entry in step.IgnoredInputs)
            {
                ProjectPath.TryNormalize(projectDirectory, entry, out var path);
                // An entry that leaves something out of another step's key is taken as a pipeline-wide default (an
                // ItemDefinitionGroup's IgnoredInputs reaches every step, and MSBuild cannot tell a task where metadata
                // came from), not as a typo: only an entry that meets nothing anywhere in the pipeline is refused.
                if (steps.Any(other => Meets(entry, path, other)))
                {
                    continue;
                }

                var parameters = step.Parameters;
                var sameName = parameters.Where(p => p.Name.Equals(entry, StringComparison.OrdinalIgnoreCase)).Select(p => p.Name).FirstOrDefault();
                var hint = sameName is not null
                    ? $" Parameter names match exactly: write '{sameName}'."
                    : NameSuggestion.Closest(entry, parameters.Select(p => p.Name).Concat(step.Inputs)) is { } meant ? $" Did you mean '{meant}'?" : "";
                var parameterList = parameters.Count == 0 ? "none" : string.Join(", ", parameters.Select(p => p.Name));
                var inputList = step.Inputs.Count == 0 ? "none" : string.Join(", ", step.Inputs);
                diagnostics.Add(new PipelineDiagnostic(ErrorCodes.IgnoredInputMatchesNothing, step.Name,
                    $"IgnoredInputs of step '{step.Name}' names '{Shown(entry)}', which is neither one of its Parameters nor a path that can be among its Inputs (nor of any other step's), so it would leave nothing out of the key.{hint} Its Parameters: {parameterList}. Its Inputs: {inputList}."));
            }
        }
    }

    /// <summary>Whether an <c>IgnoredInputs</c> entry names one of <paramref name="step"/>'s parameters (exactly) or can meet one of its inputs.</summary>
    private static bool Meets(string entry, string path, StepDefinition step) =>
        step.Parameters.Any(p => p.Name.Equals(entry, StringComparison.Ordinal)) ||
        (path.Length > 0 && step.Inputs.Any(input => CanMeet(path, input)));

    private static bool CanMeet(string ignored, string input) =>
        (ProjectPath.IsGlob(ignored), ProjectPath.IsGlob(input)) switch
        {
            (false, false) => ProjectPath.Overlaps(ignored, input),
            (false, true) => Graph.PathOverlap.InputReadsOutput(input, ignored),
            (true, false) => Graph.PathOverlap.InputReadsOutput(ignored, input),
            (true, true) => true,
        };

    /// <summary>
    /// A step's <c>EnvironmentDependencies</c>: variable names separated by <c>;</c> or <c>,</c> (as step lists and
    /// <c>PipelinePassThroughEnvironment</c>; a comma can be no part of a name worth keying). A name that no variable
    /// can have (with <c>=</c>, whitespace, a control character, a wildcard) is MLP1025: keyed as it is, it would
    /// always read as unset, so the step would hit whatever the variable meant holds.
    /// </summary>
    private static IReadOnlyList<string> ParseEnvironmentDependencies(string text, string step, List<PipelineDiagnostic> diagnostics)
    {
        var names = SplitNames(text);
        foreach (var invalid in names.Where(n => !IsEnvironmentVariableName(n)))
        {
            diagnostics.Add(new PipelineDiagnostic(ErrorCodes.InvalidEnvironmentDependency, step,
                $"EnvironmentDependencies of step '{step}' names '{Shown(invalid)}', which is not an environment variable name: list names (no '=', spaces or wildcards) separated by ';' or ','."));
        }

        return names;
    }

    /// <summary>
    /// Whether <paramref name="name"/> can name an environment variable the step's key reads: no <c>=</c> (it ends the
    /// name in the environment block), no whitespace or control character, no wildcard (<c>*</c>, <c>?</c>), which
    /// would be read literally. Kept wider than <c>[A-Za-z_][A-Za-z0-9_]*</c>: Windows has <c>ProgramFiles(x86)</c>.
    /// </summary>
    public static bool IsEnvironmentVariableName(string name) =>
        name.Length > 0 && !name.Any(c => c is '=' or '*' or '?' or ',' or ';' || char.IsWhiteSpace(c) || char.IsControl(c));

    /// <summary>Whether <paramref name="name"/> is a valid step or tool name: letters, digits, <c>.</c>, <c>-</c>, <c>_</c>.</summary>
    public static bool IsValidName(string name) => StepNamePattern().IsMatch(name);

    /// <summary>
    /// A step's <c>Tools</c>: null when empty (every declared tool counts), an empty list for <c>none</c>, else the
    /// names. Whether each is declared is checked against the <c>PipelineTool</c> items (<see cref="ToolParser.CheckStepTools"/>).
    /// </summary>
    private static IReadOnlyList<string>? ParseTools(string text, string step, List<PipelineDiagnostic> diagnostics)
    {
        // Tool names, like step names, hold no ',' (MLP1001's characters) and match ignoring case.
        var names = SplitStepNames(text);
        if (names.Count == 0)
        {
            return null;
        }

        if (names.Any(n => n.Equals(ToolParser.NoTools, StringComparison.OrdinalIgnoreCase)))
        {
            if (names.Count > 1)
            {
                diagnostics.Add(new PipelineDiagnostic(ErrorCodes.UnknownStepTool, step,
                    $"Tools of step '{step}' combines '{ToolParser.NoTools}' with tool names: give either '{ToolParser.NoTools}' or the tools."));
            }

            return [];
        }

        foreach (var invalid in names.Where(n => !IsValidName(n)))
        {
            diagnostics.Add(new PipelineDiagnostic(ErrorCodes.UnknownStepTool, step,
                $"Tools of step '{step}' names '{Shown(invalid)}', which is not a tool name: list PipelineTool names separated by ';' or ','."));
        }

        return names;
    }

    /// <summary>
    /// <paramref name="text"/> as a message can show it: control characters (a NUL, a newline, an escape) written as
    /// <c>\u0000</c>, so a log line never hides or breaks on what the user typed.
    /// </summary>
    public static string Shown(string text) =>
        text.Any(char.IsControl) ? string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())) : text;

    /// <summary>
    /// Splits a list of step names (<c>PipelineSteps</c>, <c>PipelineForce</c>, <c>DependsOn</c>, the steps
    /// <c>ClearPipelineCache</c> clears): <c>;</c> or <c>,</c> between names, trimmed, empty entries dropped. A comma
    /// can be no part of a step name (MLP1001 allows letters, digits, <c>.</c>, <c>-</c>, <c>_</c>), and it is easier
    /// to pass than <c>;</c>, which ends a shell command and which MSBuild splits a <c>-p:</c> value on (README
    /// "Selecting steps on the command line"). A name given twice, in any case, is kept once (its first spelling):
    /// step names match case-insensitively everywhere (the graph, <c>PipelineForce</c>, the store), so <c>a,A</c> is
    /// one step, and a message listing the names must not show it twice.
    /// </summary>
    public static IReadOnlyList<string> SplitStepNames(string? text) =>
        SplitNames(text).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>
    /// Splits a list of names no one of which can hold a comma or a semicolon (environment variable names in
    /// <c>EnvironmentDependencies</c> and <c>PipelinePassThroughEnvironment</c>, step and tool names): <c>;</c> or
    /// <c>,</c> between names, trimmed, empty entries (<c>a;;b</c>, a trailing <c>;</c>) dropped, a name given twice
    /// in the same spelling kept once. Case is kept apart: on Unix <c>seed</c> and <c>SEED</c> are two variables, and
    /// folding them would leave one out of the key (a wrong hit). Lists of file paths are never split on <c>,</c>: a
    /// file name may hold one.
    /// </summary>
    public static IReadOnlyList<string> SplitNames(string? text) =>
        (text ?? "").Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// A step's <c>IgnoredInputs</c>: paths, globs and parameter names, <c>;</c>-separated. A path may hold a comma, so
    /// an entry is split at <c>,</c> only when every part is one of the step's parameter names (<c>Verbose,LogLevel</c>):
    /// a parameter name can hold no comma, and a path entry stays whole. Empty entries are dropped, repeats kept once.
    /// </summary>
    private static List<string> SplitIgnoredInputs(string text, List<NamedValue> parameters)
    {
        var entries = new List<string>();
        foreach (var entry in SplitList(text))
        {
            var parts = entry.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            entries.AddRange(entry.Contains(',', StringComparison.Ordinal) && parts.Length > 0 && parts.All(p => parameters.Any(q => q.Name == p)) ? parts : [entry]);
        }

        return entries.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Splits an MSBuild list: <c>;</c>-separated, trimmed, empty entries dropped.</summary>
    public static IReadOnlyList<string> SplitList(string text) =>
        text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>A positive duration (<see cref="Quantity.TryParseDuration"/>); null when it is not one.</summary>
    public static TimeSpan? ParseDuration(string text) => Quantity.TryParseDuration(text, allowZero: false, out var duration) ? duration : null;

    /// <summary>Parses <c>true</c>/<c>false</c>; empty text gives <paramref name="fallback"/>; anything else is an error.</summary>
    private static bool? ParseBool(string text, bool? fallback, string key, string step, List<PipelineDiagnostic> diagnostics)
    {
        if (text.Length == 0)
        {
            return fallback;
        }

        if (bool.TryParse(text, out var value))
        {
            return value;
        }

        diagnostics.Add(new PipelineDiagnostic(ErrorCodes.InvalidBoolean, step, $"{key} '{text}' of step '{step}' is not valid: use true or false."));
        return fallback;
    }

    private static List<NamedValue> ParsePairs(string text, string key, string step, List<PipelineDiagnostic> diagnostics)
    {
        var pairs = new List<NamedValue>();
        foreach (var item in SplitList(text))
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            var pairName = eq > 0 ? item[..eq].Trim() : "";
            if (!VariableNamePattern().IsMatch(pairName))
            {
                // An Environment value is often a secret and is never logged: only the name part is quoted.
                var shown = key != "Environment" ? $"'{item}'" : eq >= 0 ? $"'{item[..eq]}=…'" : "without '='";
                diagnostics.Add(new PipelineDiagnostic(ErrorCodes.InvalidNameValuePair, step,
                    $"{key} entry {shown} of step '{step}' is not valid: write Name=Value, where Name has letters, digits and '_' and does not start with a digit."));
                continue;
            }

            // Given twice, one value would silently win (the last, for the process; both, for the key): say so.
            if (pairs.Any(p => p.Name == pairName))
            {
                diagnostics.Add(new PipelineDiagnostic(ErrorCodes.InvalidNameValuePair, step,
                    $"{key} of step '{step}' gives '{pairName}' twice: give each name once."));
                continue;
            }

            pairs.Add(new NamedValue(pairName, item[(eq + 1)..].Trim()));
        }

        return pairs;
    }

    /// <summary>Project-relative where inside the project; absolute (with <c>/</c>) where the user pointed outside it.</summary>
    private static List<string> NormalizeAll(string projectDirectory, IEnumerable<string> paths) =>
        paths.Where(p => p.Length > 0).Select(p =>
        {
            ProjectPath.TryNormalize(projectDirectory, p, out var normalized);
            return normalized;
        }).ToList();

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex StepNamePattern();

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex CacheVersionPattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableNamePattern();
}
