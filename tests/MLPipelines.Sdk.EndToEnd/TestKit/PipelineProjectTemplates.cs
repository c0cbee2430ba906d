using System.Security;

namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>
/// Reusable pieces of pipeline projects, as extension methods so a test file can add its own next to them.
/// </summary>
public static class PipelineProjectTemplates
{
    /// <summary>A target that logs each of <paramref name="texts"/> at high importance (shown at every verbosity).</summary>
    public static PipelineProject PrintTarget(this PipelineProject project, string targetName, params string[] texts)
    {
        ArgumentNullException.ThrowIfNull(project);
        string body = string.Concat(texts.Select(text => $"<Message Importance=\"high\" Text=\"{SecurityElement.Escape(text)}\" />"));
        return project.Target(targetName, body);
    }

    /// <summary>
    /// A step that writes <paramref name="text"/> into <paramref name="output"/> with the shell's own echo: works with
    /// both /bin/sh and cmd (text without shell metacharacters).
    /// </summary>
    public static PipelineProject EchoStep(
        this PipelineProject project,
        string name,
        string text,
        string output,
        string? inputs = null,
        string? dependsOn = null)
    {
        ArgumentNullException.ThrowIfNull(project);
        return project.Step(name, $"echo {text}> {output}", inputs: inputs, outputs: output, dependsOn: dependsOn);
    }
}
