using System.Xml.Linq;

namespace MLPipelines.Sdk.EndToEnd.TestKit;

public sealed partial class PipelineProject
{
    /// <summary>
    /// Adds a <c>&lt;Step&gt;</c>. The named arguments are the common metadata; <paramref name="metadata"/> gives
    /// any other (<c>EnableCache</c>, <c>CacheVersion</c>…). Values are MSBuild text: <c>$(Prop)</c> expands, and
    /// XML escaping is done here, so <c>echo a &gt; b</c> can be written as is.
    /// </summary>
    public PipelineProject Step(
        string name,
        string command,
        string? inputs = null,
        string? outputs = null,
        string? dependsOn = null,
        string? parameters = null,
        string? code = null,
        IEnumerable<KeyValuePair<string, string>>? metadata = null,
        string? condition = null)
    {
        var all = new List<KeyValuePair<string, string>> { new("Command", command) };
        AddIfGiven(all, "Inputs", inputs);
        AddIfGiven(all, "Outputs", outputs);
        AddIfGiven(all, "DependsOn", dependsOn);
        AddIfGiven(all, "Parameters", parameters);
        AddIfGiven(all, "Code", code);
        all.AddRange(metadata ?? []);
        return Item("Step", name, all, condition);
    }

    /// <summary>Adds any item, its metadata as attributes, to the current item group.</summary>
    public PipelineProject Item(
        string itemType,
        string include,
        IEnumerable<KeyValuePair<string, string>>? metadata = null,
        string? condition = null)
    {
        var item = new XElement(itemType, new XAttribute("Include", include));
        foreach (KeyValuePair<string, string> pair in metadata ?? [])
        {
            item.SetAttributeValue(pair.Key, pair.Value);
        }

        SetCondition(item, condition);
        LastGroup("ItemGroup").Add(item);
        return this;
    }

    /// <summary>
    /// A pipeline-wide default for every step:
    /// <c>&lt;ItemDefinitionGroup&gt;&lt;Step&gt;&lt;name&gt;value&lt;/name&gt;&lt;/Step&gt;&lt;/ItemDefinitionGroup&gt;</c>.
    /// Consecutive calls share one definition.
    /// </summary>
    public PipelineProject ItemDefinition(string metadataName, string value, string? condition = null)
    {
        XElement group = LastGroup("ItemDefinitionGroup");
        XElement definition = group.Element("Step") ?? new XElement("Step");
        if (definition.Parent is null)
        {
            group.Add(definition);
        }

        var metadata = new XElement(metadataName, value);
        SetCondition(metadata, condition);
        definition.Add(metadata);
        return this;
    }

    private static void AddIfGiven(List<KeyValuePair<string, string>> metadata, string name, string? value)
    {
        if (value is not null)
        {
            metadata.Add(new(name, value));
        }
    }
}
