using System.Text;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Policies;

/// <summary>
/// Every miss says why (SPEC "What the log shows"): the log line <c>Cache miss for X: reason.</c> names what differs
/// against the step's newest entry, or why no entry was usable. One test per reason, each asserting the exact text.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class MissReasonTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void AFirstRunSaysThereIsNoEarlierResult()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("train", "echo trained > model.txt", outputs: "model.txt")
            .Save(workspace);

        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");
    }

    [Fact]
    public void AChangedParameterIsNamedWithItsOldAndNewValue()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "0.002")
            .Step("train", "echo $PARAM_Gamma > model.txt", outputs: "model.txt", parameters: "Gamma=$(Gamma)")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.RunPipeline(DotnetRunner.Property("Gamma", "0.0001")).EnsureSucceeded()
            .EnsureMiss("train", "parameter Gamma changed (0.002 -> 0.0001)");

        Assert.Equal("0.0001", workspace.ReadFile("model.txt").Trim());
    }

    [Fact]
    public void AChangedInputFileIsNamed()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("data/train.csv", "x,y\n1,2\n");
        PipelineProject.Create(package.Version)
            .Step("train", "cat data/train.csv > model.txt", inputs: "data/train.csv", outputs: "model.txt")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.WriteFile("data/train.csv", "x,y\n1,3\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "input data/train.csv changed");

        Assert.Equal("x,y\n1,3\n", workspace.ReadFile("model.txt"));
    }

    [Fact]
    public void AChangedCodeFileIsNamed()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("train.sh", "echo v1 > model.txt\n");
        PipelineProject.Create(package.Version)
            .Step("train", "sh train.sh", outputs: "model.txt", code: "train.sh")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.WriteFile("train.sh", "echo v2 > model.txt\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "code train.sh changed");

        Assert.Equal("v2", workspace.ReadFile("model.txt").Trim());
    }

    [Fact]
    public void AChangedEnvironmentDependencyIsNamedButItsValueIsNeverWrittenInClearText()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("train", "echo trained > model.txt", outputs: "model.txt", metadata: [new("EnvironmentDependencies", "MY_VAR")])
            .Save(workspace);
        var store = StoreInspector.Of(workspace);
        string first = "first-secret-" + Guid.NewGuid().ToString("N");
        string second = "second-secret-" + Guid.NewGuid().ToString("N");

        BuildResult before = new DotnetRunner(workspace) { Environment = { ["MY_VAR"] = first } }.RunPipeline().EnsureSucceeded()
            .EnsureMiss("train", "no earlier result");
        BuildResult after = new DotnetRunner(workspace) { Environment = { ["MY_VAR"] = second } }.RunPipeline().EnsureSucceeded()
            .EnsureMiss("train", "environment MY_VAR changed");

        foreach (string secret in new[] { first, second })
        {
            Assert.DoesNotContain(secret, before.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, after.Output, StringComparison.Ordinal);
            byte[] needle = Encoding.UTF8.GetBytes(secret);
            byte[] wideNeedle = Encoding.Unicode.GetBytes(secret);
            foreach (string file in Directory.EnumerateFiles(store.Directory, "*", SearchOption.AllDirectories))
            {
                byte[] bytes = File.ReadAllBytes(file);
                Assert.True(bytes.AsSpan().IndexOf(needle) < 0 && bytes.AsSpan().IndexOf(wideNeedle) < 0,
                    $"{file} holds the value of MY_VAR in clear text.");
            }
        }

        Assert.NotEmpty(store.DatabaseFiles());
    }

    [Fact]
    public void AChangedStepEnvironmentValueIsNamedButNeitherItNorItsPlainHashIsInTheStore()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("publish", "echo published > receipt.txt", outputs: "receipt.txt", metadata: [new("Environment", "API_TOKEN=$(API_TOKEN)")])
            .Save(workspace);
        var store = StoreInspector.Of(workspace);
        string first = "tok" + Guid.NewGuid().ToString("N")[..8];
        string second = "tok" + Guid.NewGuid().ToString("N")[..8];

        BuildResult before = new DotnetRunner(workspace) { Environment = { ["API_TOKEN"] = first } }.RunPipeline().EnsureSucceeded()
            .EnsureMiss("publish", "no earlier result");
        new DotnetRunner(workspace) { Environment = { ["API_TOKEN"] = first } }.RunPipeline().EnsureSucceeded().EnsureHit("publish");
        BuildResult after = new DotnetRunner(workspace) { Environment = { ["API_TOKEN"] = second } }.RunPipeline().EnsureSucceeded()
            .EnsureMiss("publish", "step environment API_TOKEN changed");

        foreach (string secret in new[] { first, second })
        {
            string plainHash = Convert.ToHexStringLower(System.IO.Hashing.XxHash128.Hash(Encoding.UTF8.GetBytes(secret)));
            foreach (string text in new[] { secret, plainHash })
            {
                Assert.DoesNotContain(text, before.Output, StringComparison.Ordinal);
                Assert.DoesNotContain(text, after.Output, StringComparison.Ordinal);
                byte[] needle = Encoding.UTF8.GetBytes(text);
                foreach (string file in Directory.EnumerateFiles(store.Directory, "*", SearchOption.AllDirectories))
                {
                    Assert.True(File.ReadAllBytes(file).AsSpan().IndexOf(needle) < 0, $"{file} holds '{text}' (the value of API_TOKEN or its plain XxHash128).");
                }
            }
        }

        Assert.NotEmpty(store.DatabaseFiles());
    }

    [Fact]
    public void ABumpedCacheVersionIsNamedWithBothVersions()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("ModelVersion", "v1")
            .Step("train", "echo trained > model.txt", outputs: "model.txt", metadata: [new("CacheVersion", "$(ModelVersion)")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.RunPipeline(DotnetRunner.Property("ModelVersion", "v2")).EnsureSucceeded().EnsureMiss("train", "cache version v1 -> v2");
    }

    [Fact]
    public void AChangedKeyCommandOutputIsNamed()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("etag.txt", "\"etag-1\"\n");
        PipelineProject.Create(package.Version)
            .Step("train", "echo trained > model.txt", outputs: "model.txt", metadata: [new("CacheKeyCommand", "cat etag.txt")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.WriteFile("etag.txt", "\"etag-2\"\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "key command output changed");
    }

    [Fact]
    public void AnExpiredResultSaysHowLongAgoItExpired()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("train", "echo trained > model.txt", outputs: "model.txt", metadata: [new("ExpiresAfter", "01:00:00")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        // Made four hours ago with a lifetime of one hour: it expired three hours ago.
        StoreInspector.Of(workspace).AgeEntries("train", TimeSpan.FromHours(4));
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "expired 3h ago");
    }

    [Fact]
    public void AForcedStepSaysItWasForced()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("train", "echo trained > model.txt", outputs: "model.txt")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.RunPipeline(DotnetRunner.Property("PipelineForce", "train")).EnsureSucceeded().EnsureMiss("train", "forced");
    }

    [Fact]
    public void AStepWithItsCacheOffSaysTheCacheIsDisabledEvenWithAMatchingEntry()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .PropertyDefault("TrainCache", "true")
            .Step("train", "echo trained > model.txt", outputs: "model.txt", metadata: [new("EnableCache", "$(TrainCache)")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("train", "no earlier result");

        workspace.RunPipeline(DotnetRunner.Property("TrainCache", "false")).EnsureSucceeded().EnsureMiss("train", "cache disabled");
    }
}
