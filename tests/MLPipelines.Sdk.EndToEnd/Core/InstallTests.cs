using System.Text.RegularExpressions;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// README "Install" (issue 11 item 15), done exactly as written: its pack command (from the repository, into
/// <c>~/.mlpipelines/feed</c> of a stand-in home folder), its <c>nuget.config</c>, its <c>global.json</c> pin and its
/// project with <c>Sdk="MLPipelines.Sdk"</c> and no version, then plain <c>dotnet build</c> twice. The blocks are read
/// from the README itself, so the section cannot drift from what works.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed partial class InstallTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void TheReadmesInstallSectionPacksAFeedThatAVersionlessProjectPinnedByGlobalJsonBuildsFrom()
    {
        InstallSection section = InstallSection.Read();
        using Workspace workspace = Workspace.Create(package, output);
        string home = Path.Combine(workspace.Root, "home");
        Directory.CreateDirectory(home);

        // The pack, from the repository root as the README says, with ~ standing for the stand-in home.
        string[] pack = section.PackCommand.Replace("~/", home + "/", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("dotnet", pack[0]);
        ProcessResult packed = ProcessRunner.Run(ProcessRunner.DotnetExecutable, pack[1..], SdkPackage.RepositoryRoot, timeout: TimeSpan.FromMinutes(5));
        output.WriteLine(packed.ToString());
        Assert.True(packed.Succeeded, packed.ToString());
        Assert.True(File.Exists(Path.Combine(home, ".mlpipelines", "feed", $"{SdkPackage.PackageId}.{section.PinnedVersion}.nupkg")),
            $"The pack wrote no {SdkPackage.PackageId}.{section.PinnedVersion}.nupkg to ~/.mlpipelines/feed.\n{packed}");

        workspace.WriteFile("nuget.config", section.NuGetConfig);
        workspace.WriteFile("global.json", section.GlobalJson);
        workspace.WriteFile("pipeline.proj", section.Project);
        Assert.Contains("Sdk=\"MLPipelines.Sdk\"", section.Project, StringComparison.Ordinal);

        // HOME is what nuget.config's %HOME% expands to.
        var runner = new DotnetRunner(workspace) { Environment = { ["HOME"] = home } };
        BuildResult first = runner.Build("pipeline.proj").EnsureSucceeded();
        Assert.True(first.Lines.Any(l => l.Contains("1 executed", StringComparison.Ordinal)), first.ToString());
        // The SDK came from the Install feed: the pinned version, extracted into this workspace's packages folder.
        Assert.True(Directory.Exists(Path.Combine(workspace.PackagesDirectory, "mlpipelines.sdk", section.PinnedVersion)), first.ToString());

        BuildResult second = runner.Build("pipeline.proj").EnsureSucceeded();
        Assert.True(second.Lines.Any(l => l.Contains("hit rate 100%", StringComparison.Ordinal)), second.ToString());
    }

    private sealed partial record InstallSection(string PackCommand, string NuGetConfig, string GlobalJson, string Project, string PinnedVersion)
    {
        public static InstallSection Read()
        {
            string readme = File.ReadAllText(Path.Combine(SdkPackage.RepositoryRoot, "README.md")).ReplaceLineEndings("\n");
            int start = readme.IndexOf("\n## Install\n", StringComparison.Ordinal);
            Assert.True(start >= 0, "README.md has no \"## Install\" section.");
            int end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
            string section = readme[start..(end < 0 ? readme.Length : end)];
            List<(string Language, string Text)> blocks = Block().Matches(section).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();

            string pack = blocks.Where(b => b.Language == "sh").SelectMany(b => b.Text.Split('\n'))
                .Select(l => l.Split('#')[0].Trim()).Single(l => l.StartsWith("dotnet pack ", StringComparison.Ordinal));
            string nugetConfig = blocks.Single(b => b.Language == "xml" && b.Text.Contains("<configuration>", StringComparison.Ordinal)).Text;
            string globalJson = blocks.Single(b => b.Language == "json" && b.Text.Contains("msbuild-sdks", StringComparison.Ordinal)).Text;
            string project = blocks.Single(b => b.Language == "xml" && b.Text.Contains("<Project", StringComparison.Ordinal)).Text;
            string version = PinnedVersionIn().Match(globalJson).Groups[1].Value;
            Assert.False(string.IsNullOrEmpty(version), "global.json in README \"Install\" pins no MLPipelines.Sdk version.");
            return new InstallSection(pack, nugetConfig, globalJson, project, version);
        }

        [GeneratedRegex(@"```(\w*)\n(.*?)```", RegexOptions.Singleline)]
        private static partial Regex Block();

        [GeneratedRegex("\"MLPipelines\\.Sdk\"\\s*:\\s*\"([^\"]+)\"")]
        private static partial Regex PinnedVersionIn();
    }
}
