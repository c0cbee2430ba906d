namespace MLPipelines.Engine.Configuration;

/// <summary>
/// A <c>PipelineTool</c> item: a tool whose version a step's result depends on (ZenML's build reuse: a result is only
/// reusable on a compatible toolchain). Its version joins the keys of the steps that use it.
/// </summary>
/// <param name="Name">The item's <c>Include</c>: letters, digits, <c>.</c>, <c>-</c>, <c>_</c>; unique, case-insensitive.</param>
/// <param name="VersionCommand">A command line printing the tool's version, run once per build through the steps' shell.</param>
public sealed record ToolDefinition(string Name, string VersionCommand);

/// <summary>
/// Reads the <c>PipelineTool</c> items and checks each step's <c>Tools</c> against them. Every problem is an
/// MLP1022 or MLP1023 diagnostic, so one build reports all of them before any command runs.
/// </summary>
public static class ToolParser
{
    /// <summary>
    /// The word that, alone in a step's <c>Tools</c>, keys the step on no tool. An empty <c>Tools</c> cannot say
    /// that: MSBuild hands an empty metadata over exactly as a missing one, which means every tool.
    /// </summary>
    public const string NoTools = "none";

    /// <param name="declared">Each item's <c>Include</c> and its <c>VersionCommand</c> metadata (empty when missing).</param>
    /// <returns>The valid tools, in declaration order; the invalid ones are left out, each with a diagnostic.</returns>
    public static IReadOnlyList<ToolDefinition> Parse(IEnumerable<KeyValuePair<string, string>> declared, List<PipelineDiagnostic> diagnostics)
    {
        var tools = new List<ToolDefinition>();
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var (include, versionCommand) in declared)
        {
            var name = include.Trim();
            var command = versionCommand.Trim();
            var occurrence = seen.GetValueOrDefault(name);
            seen[name] = occurrence + 1;

            // Tool and Occurrence: the error points at this <PipelineTool> element (the second one of a name declared twice).
            void Error(string message) => diagnostics.Add(new PipelineDiagnostic(ErrorCodes.InvalidPipelineTool, null, message) { Tool = name, Occurrence = occurrence });

            if (!StepParser.IsValidName(name) || name.Equals(NoTools, StringComparison.OrdinalIgnoreCase))
            {
                Error($"PipelineTool '{StepParser.Shown(name)}' has no valid name: use letters, digits, '.', '-' and '_' only, and not '{NoTools}' (a step's Tools=\"{NoTools}\" means no tool).");
            }
            else if (command.Length == 0)
            {
                Error($"PipelineTool '{name}' has no VersionCommand. Set VersionCommand=\"...\" to a command that prints its version (python3 --version).");
            }
            else if (command.Contains('\0', StringComparison.Ordinal))
            {
                Error($"The VersionCommand of PipelineTool '{name}' holds a NUL character (%00), which no command line can carry. Remove it.");
            }
            else if (tools.Any(t => t.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                // Two commands for one name: which version would the key hold? Neither silently.
                Error($"PipelineTool '{name}' is declared twice. Declare each tool once.");
            }
            else
            {
                tools.Add(new ToolDefinition(name, command));
            }
        }

        return tools;
    }

    /// <summary>The metadata a <c>PipelineTool</c> item has.</summary>
    public static readonly IReadOnlyList<string> MetadataNames = ["VersionCommand"];

    /// <summary>
    /// MLP1081 warnings for a <c>PipelineTool</c>'s metadata names that are close to <c>VersionCommand</c> but are not
    /// it (<c>VersionComand</c>): the tool then has no version command (MLP1022), and the warning says which name was meant.
    /// </summary>
    public static IEnumerable<PipelineDiagnostic> MisspeltMetadata(string tool, IEnumerable<string> metadataNames) =>
        NameSuggestion.MisspeltMetadata(metadataNames, MetadataNames).Select(typo => new PipelineDiagnostic(ErrorCodes.MisspeltMetadata, null,
            $"PipelineTool '{StepParser.Shown(tool.Trim())}' has metadata '{StepParser.Shown(typo.Given)}', which MLPipelines.Sdk does not read: did you mean '{typo.Meant}'? " +
            $"Rename it; a PipelineTool reads only {string.Join(", ", MetadataNames)}."));

    /// <summary>
    /// Adds an MLP1023 diagnostic, naming the step, for each tool a step's <c>Tools</c> names that is not declared.
    /// A name among <paramref name="declaredNames"/> (the <c>Include</c> of every <c>PipelineTool</c> item, valid or
    /// not) is declared: a tool that <see cref="Parse"/> rejected already has its MLP1022, and a second error on every
    /// step naming it ("not a PipelineTool (none is declared)") would contradict the project.
    /// </summary>
    public static void CheckStepTools(
        IEnumerable<StepDefinition> steps, IReadOnlyList<ToolDefinition> tools, List<PipelineDiagnostic> diagnostics, IEnumerable<string>? declaredNames = null)
    {
        var declaredAtAll = new HashSet<string>(tools.Select(t => t.Name).Concat((declaredNames ?? []).Select(n => n.Trim())), StringComparer.OrdinalIgnoreCase);
        var declared = tools.Count == 0 ? "none is declared" : "declared: " + string.Join(", ", tools.Select(t => t.Name));
        foreach (var step in steps)
        {
            foreach (var unknown in (step.Tools ?? []).Where(name => !declaredAtAll.Contains(name)))
            {
                diagnostics.Add(new PipelineDiagnostic(ErrorCodes.UnknownStepTool, step.Name,
                    $"Tools of step '{step.Name}' names '{unknown}', which is not a PipelineTool ({declared}). Fix the name, or declare <PipelineTool Include=\"{unknown}\" VersionCommand=\"...\" />."));
            }
        }
    }
}
