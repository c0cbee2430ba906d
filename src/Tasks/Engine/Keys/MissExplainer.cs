namespace MLPipelines.Engine.Keys;

/// <summary>
/// Says why a key missed by comparing its components with those of the step's newest entry: the answer to the most
/// asked question of every build cache ("why did this run again?").
/// </summary>
public static class MissExplainer
{
    private const int MaxReasons = 4;

    public static string Explain(IReadOnlyList<KeyComponent> previous, IReadOnlyList<KeyComponent> current)
    {
        var before = ByIdentity(previous);
        var after = ByIdentity(current);
        var reasons = new List<string>();

        // A component can occur twice (a file under two overlapping Inputs, a parameter declared twice): the last
        // one stands, as it does for the command's environment, and each is explained once.
        foreach (var c in after.Values)
        {
            if (!before.TryGetValue((c.Kind, c.Name), out var old))
            {
                if (!SaidByDependsOn(c, after, before))
                {
                    reasons.Add(Describe(c, "added"));
                }
            }
            else if (old.Hash != c.Hash)
            {
                reasons.Add(Changed(old, c));
            }
        }

        reasons.AddRange(before.Values.Where(c => !after.ContainsKey((c.Kind, c.Name)) && !SaidByDependsOn(c, before, after)).Select(c => Describe(c, "removed")));

        if (reasons.Count == 0)
        {
            return "no difference in key components (the entry was made by another version of the engine)";
        }

        var shown = string.Join("; ", reasons.Take(MaxReasons));
        return reasons.Count > MaxReasons ? $"{shown}; and {reasons.Count - MaxReasons} more" : shown;
    }

    // Insertion order is the components' canonical order; a repeated identity keeps its first place and last value.
    private static Dictionary<(string Kind, string Name), KeyComponent> ByIdentity(IReadOnlyList<KeyComponent> components)
    {
        var byIdentity = new Dictionary<(string Kind, string Name), KeyComponent>();
        foreach (var c in components)
        {
            byIdentity[(c.Kind, c.Name)] = c;
        }

        return byIdentity;
    }

    // "dependency on X added" already says that X's outputs now count: naming them too would only crowd out a reason.
    private static bool SaidByDependsOn(KeyComponent c, Dictionary<(string Kind, string Name), KeyComponent> has, Dictionary<(string Kind, string Name), KeyComponent> lacks) =>
        c.Kind == ComponentKind.UpstreamOutputs && has.ContainsKey((ComponentKind.DependsOn, c.Name)) && !lacks.ContainsKey((ComponentKind.DependsOn, c.Name));

    private static string Changed(KeyComponent old, KeyComponent now) => now.Kind switch
    {
        ComponentKind.Parameter when old.Value is not null && now.Value is not null => $"parameter {now.Name} changed ({old.Value} -> {now.Value})",
        ComponentKind.CacheVersion => $"cache version {old.Value} -> {now.Value}",
        ComponentKind.Command when old.Value is not null && now.Value is not null => $"command changed ('{old.Value}' -> '{now.Value}')",
        ComponentKind.Settings => $"cache settings changed ({old.Value} -> {now.Value})",
        ComponentKind.Format => $"cache key format changed ({old.Value} -> {now.Value})",
        ComponentKind.Tool when old.Value is not null && now.Value is not null => $"tool {now.Name} changed ({old.Value} -> {now.Value})",
        ComponentKind.Platform when old.Value is not null && now.Value is not null => $"platform changed ({old.Value} -> {now.Value})",
        _ => Describe(now, "changed"),
    };

    private static string Describe(KeyComponent c, string what) => c.Kind switch
    {
        ComponentKind.Parameter => $"parameter {c.Name} {what}" + (what == "added" && c.Value is not null ? $" ({c.Value})" : ""),
        ComponentKind.Input => c.Name.EndsWith("#id", StringComparison.Ordinal) ? $"input {c.Name[..^3]} identity {what}" : $"input {c.Name} {what}",
        ComponentKind.Code => $"code {c.Name} {what}",
        ComponentKind.Command => $"command {what}",
        ComponentKind.WorkingDirectory => $"working directory {what}",
        ComponentKind.StepEnvironment => $"step environment {c.Name} {what}",
        ComponentKind.Output => $"output {c.Name} {what}",
        ComponentKind.DependsOn => $"dependency on {c.Name} {what}",
        ComponentKind.UpstreamOutputs => $"outputs of upstream step {c.Name} {what}",
        ComponentKind.CacheVersion => $"cache version {what}" + (c.Value is not null ? $" ({c.Value})" : ""),
        ComponentKind.FileDependency => $"file dependency {c.Name} {what}",
        ComponentKind.SourceDependency => $"source {c.Name} {what}",
        ComponentKind.EnvironmentDependency => $"environment {c.Name} {what}",
        ComponentKind.KeyCommand => $"key command output {what}",
        ComponentKind.Tool => $"tool {c.Name} {what}" + (what == "added" && c.Value is not null ? $" ({c.Value})" : ""),
        ComponentKind.Platform => $"platform {what}" + (c.Value is not null ? $" ({c.Value})" : ""),
        _ => $"{c.Kind} {c.Name} {what}".Replace("  ", " ", StringComparison.Ordinal),
    };
}
