using System.Xml.Linq;

namespace MLPipelines.Sdk.EndToEnd.TestKit;

public sealed partial class PipelineProject
{
    /// <summary>
    /// Adds a target whose body is raw XML (tasks, groups), e.g.
    /// <c>Target("Show", "&lt;Message Importance=\"high\" Text=\"$(PipelineName)\" /&gt;")</c>.
    /// </summary>
    public PipelineProject Target(
        string name,
        string body = "",
        string? dependsOnTargets = null,
        string? beforeTargets = null,
        string? afterTargets = null,
        string? condition = null)
    {
        var target = new XElement("Target", new XAttribute("Name", name));
        SetAttributeIfGiven(target, "DependsOnTargets", dependsOnTargets);
        SetAttributeIfGiven(target, "BeforeTargets", beforeTargets);
        SetAttributeIfGiven(target, "AfterTargets", afterTargets);
        SetCondition(target, condition);
        target.Add(ParseFragment(body));
        project.Add(target);
        return this;
    }

    /// <summary>An <c>&lt;Import Project="…" /&gt;</c>.</summary>
    public PipelineProject Import(string projectPath, string? condition = null)
    {
        var import = new XElement("Import", new XAttribute("Project", projectPath));
        SetCondition(import, condition);
        project.Add(import);
        return this;
    }

    private static void SetAttributeIfGiven(XElement element, string name, string? value)
    {
        if (value is not null)
        {
            element.SetAttributeValue(name, value);
        }
    }
}
