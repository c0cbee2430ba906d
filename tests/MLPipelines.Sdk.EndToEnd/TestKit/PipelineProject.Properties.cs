using System.Xml.Linq;

namespace MLPipelines.Sdk.EndToEnd.TestKit;

public sealed partial class PipelineProject
{
    /// <summary>Sets a property in the current property group; <paramref name="condition"/> goes on the property.</summary>
    public PipelineProject Property(string name, string value, string? condition = null)
    {
        var property = new XElement(name, value);
        SetCondition(property, condition);
        LastGroup("PropertyGroup").Add(property);
        return this;
    }

    /// <summary>A property given only when the user did not: <c>Condition="'$(name)' == ''"</c>.</summary>
    public PipelineProject PropertyDefault(string name, string value) =>
        Property(name, value, $"'$({name})' == ''");

}
