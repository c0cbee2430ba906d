using MLPipelines.Engine.Configuration;

namespace MLPipelines.Tasks.Tests.TestKit;

/// <summary>Steps as MSBuild hands them to the engine: a name and text metadata.</summary>
internal static class Raw
{
    public static RawStep Step(string name, params (string Key, string Value)[] metadata) =>
        new(name, metadata.ToDictionary(m => m.Key, m => m.Value, StringComparer.OrdinalIgnoreCase));

    /// <summary>A step with a command and the given metadata.</summary>
    public static RawStep Step(string name, string command, params (string Key, string Value)[] metadata) =>
        Step(name, [("Command", command), .. metadata]);
}
