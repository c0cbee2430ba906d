using System.Globalization;
using System.Security;
using System.Text;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// SPEC "Failure and bad input", fuzzed through real builds: random values (seeded; the seed is in every failure) with
/// unicode, NUL (<c>%00</c>, and <c>&amp;#0;</c>, which XML itself rejects), XML entities, MSBuild escapes and huge
/// text in step metadata and pipeline properties. A build may succeed or fail with MLP1xxx/MLP2xxx (or MSBuild's own
/// MSBxxxx for XML it rejects), but never crash (MLP4003), report a store error, or print a stack trace. The engine's
/// parsers get hundreds of such cases in the unit fuzz test; these few show that MSBuild's escaping and the task
/// adapters add no crash of their own. Set MLP_FUZZ_SEED to repeat a run.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class ConfigurationFuzzTests(SdkPackage package, ITestOutputHelper output)
{
    private const int Builds = 24;

    // As the project file holds them: raw XML text (entities and MSBuild escapes are not escaped again). No '..' or
    // absolute folder here: a WorkingDirectory is created if missing, and the fuzz must not write outside its folder.
    private static readonly string[] Atoms =
    [
        "a", "data.csv", "out/", "x.bin", "*.csv", "**", "v1", "true", "false", "maybe", "0", "-1", "1e308", "NaN", "3600",
        "1.00:00:00", "99999999999", "CodeHash", "InputHash", "A=1", "1A=2", "=", ";", ";;", ",", ":", "%3B", "%24(Gamma)",
        "%40(Step)", "%25", "%00", "a%00b", "&amp;", "&lt;&gt;", "&quot;", "&apos;", "&#x202E;", "&#x5D0;&#x5D1;", "e&#x301;",
        "&#x1F600;", "&#xFEFF;", "&#x9;", "&#xA;", "&#x1;", "&#0;", "&#xD800;", "$(MSBuildProjectName)", "$(Undefined)",
        "@(Undefined)", "%(Identity)", "stép", "日本", "\u202Eevil", "ﬃ", "İ",
    ];

    private static readonly string[] StepMetadata =
    [
        "Command", "WorkingDirectory", "Environment", "DependsOn", "Inputs", "Outputs", "PersistOutputs", "Parameters", "Code",
        "EnableCache", "CacheStrategy", "IncludeStepCode", "IncludeStepParameters", "IncludeArtifactValues", "IncludeArtifactIds",
        "IgnoredInputs", "FileDependencies", "SourceDependencies", "EnvironmentDependencies", "CacheVersion", "ExpiresAfter",
    ];

    private static readonly string[] Properties =
    [
        "PipelineName", "EnablePipelineCache", "PipelineSteps", "PipelineForce", "PipelineResumeFrom", "PipelineMaxParallelism",
        "PipelineCacheMaxAge", "PipelineCacheMaxSize", "PipelineLockTimeout",
    ];

    [Fact]
    public void RandomValuesInEveryMetadataAndPropertyNeverCrashTheBuild()
    {
        int seed = System.Environment.GetEnvironmentVariable("MLP_FUZZ_SEED") is { } given
            ? int.Parse(given, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
        output.WriteLine($"Seed {seed} (MLP_FUZZ_SEED={seed} repeats it).");
        using Workspace root = Workspace.Create(package, output);
        for (int i = 0; i < Builds; i++)
        {
            var random = new Random(seed + i);
            Workspace workspace = root.Sibling($"case{i}", output);
            string body = RandomProject(random, i);
            workspace.WriteFile(PipelineRuns.Project, $"<Project Sdk=\"{SdkPackage.PackageId}/{package.Version}\">\n{body}\n</Project>\n");

            BuildResult result = workspace.RunPipeline();

            string context = $"Case {i} of seed {seed} (MLP_FUZZ_SEED={seed}).\n{Shorten(body)}\n{Shorten(result.ToString())}";
            Assert.False(result.Contains("MLP4003"), context);
            Assert.All(result.Errors, error => Assert.True(
                error.Code.StartsWith("MLP1", StringComparison.Ordinal) || error.Code.StartsWith("MLP2", StringComparison.Ordinal) ||
                error.Code.StartsWith("MSB", StringComparison.Ordinal), $"Unexpected error {error}.\n{context}"));
            Assert.False(result.Lines.Any(line => line.StartsWith("   at ", StringComparison.Ordinal) || line.Contains("Exception:", StringComparison.Ordinal)), context);
        }
    }

    private static string RandomProject(Random random, int index)
    {
        var text = new StringBuilder("  <PropertyGroup>\n");
        foreach (string property in Properties.Where(_ => random.Next(4) == 0))
        {
            text.Append(CultureInfo.InvariantCulture, $"    <{property}>{RandomValue(random)}</{property}>\n");
        }

        text.Append("  </PropertyGroup>\n  <ItemGroup>\n");
        for (int s = 0, steps = random.Next(1, 4); s < steps; s++)
        {
            string name = random.Next(4) == 0 ? RandomValue(random) : $"s{s}";
            text.Append(CultureInfo.InvariantCulture, $"    <Step Include=\"{name}\"");
            // A safe command that still carries random text: whatever the value turns into, it only echoes.
            text.Append(CultureInfo.InvariantCulture, $" Command=\"echo {index}-{s} &gt; out{s}.txt # {RandomValue(random)}\"");
            if (random.Next(4) == 0)
            {
                text.Append(CultureInfo.InvariantCulture, $" CacheKeyCommand=\"echo key # {RandomValue(random)}\"");
            }

            text.Append(CultureInfo.InvariantCulture, $" Outputs=\"out{s}.txt{(random.Next(3) == 0 ? ";" + RandomValue(random) : "")}\"");
            foreach (string metadata in StepMetadata.Where(m => m is not ("Command" or "Outputs") && random.Next(4) == 0))
            {
                text.Append(CultureInfo.InvariantCulture, $" {metadata}=\"{RandomValue(random)}\"");
            }

            text.Append(" />\n");
        }

        return text.Append("  </ItemGroup>").ToString();
    }

    private static string RandomValue(Random random)
    {
        if (random.Next(20) == 0)
        {
            // Huge: beyond the 128 KiB a single argument or variable may have on Linux.
            return SecurityElement.Escape(new string((char)random.Next('a', 'z' + 1), 200_000))!;
        }

        var text = new StringBuilder();
        for (int p = 0, parts = random.Next(1, 4); p < parts; p++)
        {
            text.Append(Atoms[random.Next(Atoms.Length)]);
        }

        // The one character a shell comment cannot hold safely: a newline would start a command of random text.
        return text.ToString().Replace("&#xA;", "&#x20;", StringComparison.Ordinal);
    }

    private static string Shorten(string text) => text.Length > 20_000 ? text[..20_000] + $"… ({text.Length} chars)" : text;
}
