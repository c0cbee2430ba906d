using MLPipelines.Engine;

namespace MLPipelines.Tasks.Tests.Configuration;

/// <summary>Every diagnostic reaches MSBuild as one line: a second line would be a second error, and a CI annotation would end at the first.</summary>
public sealed class DiagnosticOneLineTests
{
    [Theory]
    [InlineData("Step 'a' did not write 'x\ny.txt'.", "Step 'a' did not write 'x\\ny.txt'.")]
    [InlineData("line one\r\nline two", "line one\\r\\nline two")]
    [InlineData("ended with: \u001b[31merror:\u001b[0m bad | \u001b]8;;http://x\u0007link\u001b]8;;\u0007", "ended with: error: bad | link")]
    [InlineData("bell\u0007 and nul\u0000 and tab\t", "bell  and nul  and tab\t")]
    [InlineData("plain text stays as it is", "plain text stays as it is")]
    public void AMessageIsOneLineOfPlainText(string message, string shown)
    {
        Assert.Equal(shown, PipelineDiagnostic.OneLine(message));
        Assert.DoesNotContain('\n', PipelineDiagnostic.OneLine(message));
    }
}
