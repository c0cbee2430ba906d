using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>
/// A fluent builder of pipeline project files. Every method returns the builder; an optional condition comes last.
/// Elements are written in call order, and consecutive properties (or steps, or step defaults) share one group, so
/// the file reads like one a person would write. Split by concern: .Properties, .Items, .Targets.
/// </summary>
public sealed partial class PipelineProject
{
    private readonly XElement project;

    private PipelineProject(XElement project) => this.project = project;

    /// <summary>A standalone pipeline: <c>&lt;Project Sdk="MLPipelines.Sdk/version"&gt;</c>.</summary>
    public static PipelineProject Create(string sdkVersion) =>
        new(new XElement("Project", new XAttribute("Sdk", $"{SdkPackage.PackageId}/{sdkVersion}")));

    /// <summary>
    /// The add-on form: a Microsoft.NET.Sdk project targeting <paramref name="targetFramework"/> with
    /// <c>&lt;Sdk Name="MLPipelines.Sdk" Version="…" /&gt;</c> in it.
    /// </summary>
    public static PipelineProject CreateAddOn(string sdkVersion, string targetFramework = "net10.0") =>
        new PipelineProject(new XElement(
                "Project",
                new XAttribute("Sdk", "Microsoft.NET.Sdk"),
                new XElement("Sdk", new XAttribute("Name", SdkPackage.PackageId), new XAttribute("Version", sdkVersion))))
            .Property("TargetFramework", targetFramework);

    /// <summary>
    /// The add-on form in a multi-targeted project: <c>TargetFrameworks</c> is <c>net10.0;</c><see cref="SecondFramework"/>.
    /// Only the .NET 10 targeting pack is installed and the tests' feed holds no other, so the second framework is an
    /// alias of net10.0 (its identifier and version set by hand, as NuGet and the .NET SDK allow): two real inner
    /// builds, each with its own bin/ and obj/ folder, with no download.
    /// </summary>
    public static PipelineProject CreateMultiTargetedAddOn(string sdkVersion)
    {
        string isSecond = $"'$(TargetFramework)' == '{SecondFramework}'";
        return new PipelineProject(new XElement(
                "Project",
                new XAttribute("Sdk", "Microsoft.NET.Sdk"),
                new XElement("Sdk", new XAttribute("Name", SdkPackage.PackageId), new XAttribute("Version", sdkVersion))))
            .Property("TargetFrameworks", $"net10.0;{SecondFramework}")
            .Property("TargetFrameworkIdentifier", ".NETCoreApp", isSecond)
            .Property("TargetFrameworkVersion", "v10.0", isSecond)
            .Property("TargetFrameworkMoniker", ".NETCoreApp,Version=v10.0", isSecond);
    }

    /// <summary>The second target framework of <see cref="CreateMultiTargetedAddOn"/>: an alias of net10.0.</summary>
    public const string SecondFramework = "second";

    /// <summary>Appends raw XML (one or more elements, comments) at the end of the project: anything without a helper.</summary>
    public PipelineProject Xml(string rawXml)
    {
        project.Add(ParseFragment(rawXml));
        return this;
    }

    /// <summary>Writes the project to <paramref name="relativePath"/> in the workspace's project directory.</summary>
    public PipelineProject Save(Workspace workspace, string relativePath = "pipeline.proj")
    {
        ArgumentNullException.ThrowIfNull(workspace);
        workspace.WriteFile(relativePath, ToXml());
        return this;
    }

    /// <summary>The indented project file text, without an XML declaration.</summary>
    public string ToXml()
    {
        var settings = new XmlWriterSettings
        {
            Indent = true,
            IndentChars = "  ",
            OmitXmlDeclaration = true,
            NewLineChars = "\n",
            // Keeps a newline in a metadata value as &#xA; so the parser does not fold it into a space.
            NewLineHandling = NewLineHandling.Entitize,
        };
        var text = new StringBuilder();
        using (var writer = XmlWriter.Create(text, settings))
        {
            project.WriteTo(writer);
        }

        return text.Append('\n').ToString();
    }

    public override string ToString() => ToXml();

    /// <summary>The last child when it is a <paramref name="name"/> element without a condition: where to add next.</summary>
    private XElement LastGroup(string name)
    {
        if (project.LastNode is XElement last && last.Name == name && last.Attribute("Condition") is null)
        {
            return last;
        }

        var group = new XElement(name);
        project.Add(group);
        return group;
    }

    private static List<XNode> ParseFragment(string rawXml)
    {
        ArgumentNullException.ThrowIfNull(rawXml);
        return XElement.Parse($"<Fragment>{rawXml}</Fragment>", LoadOptions.None).Nodes().ToList();
    }

    private static void SetCondition(XElement element, string? condition)
    {
        if (condition is not null)
        {
            element.SetAttributeValue("Condition", condition);
        }
    }
}
