namespace MLPipelines.Engine.Configuration;

/// <summary>
/// Checks the step names a user selects (<c>PipelineSteps</c>, <c>PipelineForce</c>) against what they can name, so
/// a typo is an error (MLP1015) that lists the known steps, never a run or a clear that silently does nothing.
/// </summary>
public static class StepSelection
{
    /// <summary>
    /// For a run or a plan: every selected or forced name (<c>*</c> aside) must be a step of the pipeline
    /// (case-insensitive, as step names are). One MLP1015 per unknown name, naming it and listing the steps.
    /// </summary>
    public static void CheckRun(IEnumerable<string> selected, IEnumerable<string> forced, IReadOnlyCollection<string> steps, string pipeline, List<PipelineDiagnostic> diagnostics)
    {
        var known = new HashSet<string>(steps, StringComparer.OrdinalIgnoreCase);
        var given = selected.Select(n => (Name: n, Property: "PipelineSteps")).Concat(forced.Where(f => f != "*").Select(n => (Name: n, Property: "PipelineForce")));
        foreach (var (name, property) in given.Where(g => !known.Contains(g.Name)).DistinctBy(g => (g.Name.ToUpperInvariant(), g.Property)))
        {
            diagnostics.Add(new PipelineDiagnostic(ErrorCodes.UnknownSelectedStep, name,
                $"'{StepParser.Shown(name)}' (from {property}) is not a step of pipeline {pipeline}. {Listed("Its steps", steps)}"));
        }
    }

    /// <summary>
    /// For <c>ClearPipelineCache -p:PipelineSteps=…</c>: a name may be a step of the project, or a step that has
    /// entries in the store (one since removed from the project, whose entries are still to clear). Anything else is
    /// MLP1015, listing both kinds, so a typo never clears nothing in silence.
    /// </summary>
    public static void CheckClear(IEnumerable<string> selected, IReadOnlyCollection<string> steps, IReadOnlyCollection<string> stepsWithEntries, string pipeline, List<PipelineDiagnostic> diagnostics)
    {
        var known = new HashSet<string>(steps.Concat(stepsWithEntries), StringComparer.OrdinalIgnoreCase);
        var removed = stepsWithEntries.Where(s => !steps.Contains(s, StringComparer.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
        foreach (var name in selected.Where(n => !known.Contains(n)).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            diagnostics.Add(new PipelineDiagnostic(ErrorCodes.UnknownSelectedStep, name,
                $"'{StepParser.Shown(name)}' (from PipelineSteps) is neither a step of pipeline {pipeline} nor a step with entries in its cache, so nothing was cleared. " +
                Listed("Its steps", steps) + (removed.Count == 0 ? "" : " " + Listed("Steps no longer in the project that still have entries", removed))));
        }
    }

    private static string Listed(string what, IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count == 0 ? $"{what}: none." : $"{what}: {string.Join(", ", list)}.";
    }
}
