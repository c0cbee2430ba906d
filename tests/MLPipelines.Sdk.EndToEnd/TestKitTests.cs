using System.Xml.Linq;
using MLPipelines.Sdk.EndToEnd.TestKit;

namespace MLPipelines.Sdk.EndToEnd;

/// <summary>The test kit's own behaviour, checked without packing or building anything.</summary>
public sealed class TestKitTests
{
    [Fact]
    public void ProjectXmlIsIndentedAndEscapesMetadata()
    {
        string xml = PipelineProject.Create("1.2.3")
            .Property("Gamma", "0.002", "'$(Gamma)' == ''")
            .Property("PipelineName", "iris")
            .ItemDefinition("CacheStrategy", "InputHash")
            .ItemDefinition("CacheVersion", "v2")
            .Step("train", "echo \"a & b\" > out.txt", inputs: "data/", outputs: "out.txt", parameters: "Gamma=$(Gamma)",
                metadata: [new("Environment", "A=1\nB=2")])
            .Step("notify", "true", dependsOn: "train")
            .ToXml();

        Assert.StartsWith("<Project Sdk=\"MLPipelines.Sdk/1.2.3\">\n  <PropertyGroup>\n    <Gamma Condition=", xml, StringComparison.Ordinal);
        Assert.Contains("&amp; b&quot; &gt; out.txt", xml, StringComparison.Ordinal);

        XElement project = XElement.Parse(xml);
        Assert.Single(project.Elements("PropertyGroup"));
        Assert.Equal(["CacheStrategy", "CacheVersion"], project.Element("ItemDefinitionGroup")!.Element("Step")!.Elements().Select(e => e.Name.LocalName));
        XElement[] steps = [.. project.Element("ItemGroup")!.Elements("Step")];
        Assert.Equal(2, steps.Length);
        Assert.Equal("echo \"a & b\" > out.txt", steps[0].Attribute("Command")!.Value);
        // A newline survives the round trip instead of being folded into a space by the XML parser.
        Assert.Equal("A=1\nB=2", steps[0].Attribute("Environment")!.Value);
        Assert.Equal("train", steps[1].Attribute("DependsOn")!.Value);
    }

    [Fact]
    public void AddOnProjectNamesBothSdks()
    {
        XElement project = XElement.Parse(PipelineProject.CreateAddOn("1.2.3").Property("RunPipelineBeforeBuild", "true").ToXml());

        Assert.Equal("Microsoft.NET.Sdk", project.Attribute("Sdk")!.Value);
        Assert.Equal("1.2.3", project.Element("Sdk")!.Attribute("Version")!.Value);
        Assert.Equal("net10.0", project.Element("PropertyGroup")!.Element("TargetFramework")!.Value);
        Assert.Equal("true", project.Element("PropertyGroup")!.Element("RunPipelineBeforeBuild")!.Value);
    }

    [Theory]
    [InlineData("/w/p.proj(3,5): error MLP1004: Step 'b' depends on unknown step 'x'. [/w/p.proj]", "error", "MLP1004", "/w/p.proj", 3, 5)]
    [InlineData("    /w/p.proj : warning MLP3002: Entry damaged.", "warning", "MLP3002", "/w/p.proj", null, null)]
    [InlineData("MSBUILD : error MSB1009: Project file does not exist.", "error", "MSB1009", "MSBUILD", null, null)]
    [InlineData("C:\\w\\p.proj(7): error : Something went wrong.", "error", "", "C:\\w\\p.proj", 7, null)]
    public void ErrorAndWarningLinesAreParsed(string line, string severity, string code, string file, int? lineNumber, int? column)
    {
        BuildMessage message = Assert.IsType<BuildMessage>(BuildMessage.TryParse(line));

        Assert.Equal((severity, code, file, lineNumber, column), (message.Severity, message.Code, message.File, message.Line, message.Column));
    }

    [Theory]
    [InlineData("Build succeeded.")]
    [InlineData("    0 Error(s)")]
    [InlineData("  train: error: the step's own output is not an MSBuild error")]
    [InlineData("Cache miss for train: input file data/error.csv changed.")]
    public void OtherLinesAreNotErrors(string line) => Assert.Null(BuildMessage.TryParse(line));

    [Fact]
    public void CopyToMovesTheProjectWithItsTimesButNotBuildState()
    {
        using Workspace workspace = Workspace.Create(Path.GetTempPath(), null, nameof(CopyToMovesTheProjectWithItsTimesButNotBuildState));
        var past = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        workspace.WriteFile("pipeline.proj", "<Project />")
            .WriteFile("data/raw.csv", "a,b\r\n1,2\r\n")
            .SetLastWriteTimeUtc("data/raw.csv", past)
            .WriteFile(".mlpipelines/cache.db", "store")
            .WriteFile("obj/x.json", "{}");

        Workspace moved = workspace.CopyTo("elsewhere/deeper");
        Workspace movedWithCache = workspace.CopyTo("with-cache", withCache: true);

        Assert.Equal(["data/raw.csv", "pipeline.proj"], moved.ListFiles());
        Assert.Equal("a,b\n1,2\n", moved.ReadFile("data/raw.csv"));
        Assert.Equal(past, moved.GetLastWriteTimeUtc("data/raw.csv"));
        Assert.True(movedWithCache.FileExists(".mlpipelines/cache.db"));
        Assert.StartsWith(workspace.Root, moved.ProjectDirectory, StringComparison.Ordinal);

        moved.Delete("data");
        Assert.False(moved.DirectoryExists("data"));
        Assert.True(workspace.FileExists("data/raw.csv"));

        workspace.Dispose();
        Assert.Equal(Workspace.KeepWorkspaces, Directory.Exists(workspace.Root));
    }

    [Fact]
    public void ChildProcessesDoNotInheritTheTestHostsMSBuild()
    {
        string directory = Path.GetTempPath();
        ProcessResult result = OperatingSystem.IsWindows()
            ? ProcessRunner.Run("cmd", ["/c", "set"], directory, [new("MLP_PROBE", "seen")])
            : ProcessRunner.Run("/bin/sh", ["-c", "env"], directory, [new("MLP_PROBE", "seen")]);

        string[] names = [.. result.EnsureSucceeded().Output.Split('\n').Select(line => line.Split('=')[0].Trim())];
        Assert.DoesNotContain(names, name => name.StartsWith("MSBuildExtensionsPath", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(names, name => name.Equals("MSBuildSDKsPath", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("DOTNET_HOST_PATH", names);
        Assert.Contains("MSBUILDDISABLENODEREUSE=1", result.Output, StringComparison.Ordinal);
        Assert.Contains("MLP_PROBE=seen", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void AProcessThatOverrunsIsKilledWithItsChildren()
    {
        ProcessResult result = OperatingSystem.IsWindows()
            ? ProcessRunner.Run("cmd", ["/c", "ping -n 60 127.0.0.1 >nul"], Path.GetTempPath(), timeout: TimeSpan.FromSeconds(1))
            : ProcessRunner.Run("/bin/sh", ["-c", "sleep 60; echo never"], Path.GetTempPath(), timeout: TimeSpan.FromSeconds(1));

        Assert.True(result.TimedOut, result.ToString());
        Assert.False(result.Succeeded);
        Assert.True(result.Duration < TimeSpan.FromSeconds(30), result.ToString());
        Assert.DoesNotContain("never", result.Output.Split('\n'));
    }
}
