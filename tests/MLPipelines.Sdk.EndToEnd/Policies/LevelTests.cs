using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Policies;

/// <summary>
/// Where a policy is set: pipeline-wide defaults through <c>&lt;ItemDefinitionGroup&gt;</c> (or the
/// <c>EnablePipelineCache</c> property), a step's own metadata winning, the command line above both; and
/// <c>PipelineForce</c>, which executes a step even on a hit and replaces its entry.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class LevelTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void AnItemDefinitionDefaultAppliesToEveryStepAndAStepsOwnMetadataWins()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("a.sh", "echo a1 > a.txt\n");
        workspace.WriteFile("b.sh", "echo b1 > b.txt\n");
        PipelineProject.Create(package.Version)
            .ItemDefinition("CacheStrategy", "InputHash")
            .Step("a", "sh a.sh", outputs: "a.txt", code: "a.sh")
            .Step("b", "sh b.sh", outputs: "b.txt", code: "b.sh", metadata: [new("CacheStrategy", "CodeHash")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("a", "no earlier result").EnsureMiss("b", "no earlier result");

        workspace.WriteFile("a.sh", "echo a2 > a.txt\n");
        workspace.WriteFile("b.sh", "echo b2 > b.txt\n");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("a").EnsureMiss("b", "code b.sh changed");

        Assert.Equal("a1", workspace.ReadFile("a.txt").Trim());
        Assert.Equal("b2", workspace.ReadFile("b.txt").Trim());
    }

    [Fact]
    public void EnablePipelineCacheInTheProjectIsADefaultButOnTheCommandLineItOverridesEveryStep()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Property("EnablePipelineCache", "false")
            .Step("a", "echo a > a.txt", outputs: "a.txt")
            .Step("b", "echo b > b.txt", outputs: "b.txt", metadata: [new("EnableCache", "true")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("a", "cache disabled").EnsureMiss("b", "no earlier result");

        // The project's default turns a's cache off (its result is recorded, yet not used); b's own metadata wins.
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("a", "cache disabled").EnsureHit("b");

        workspace.RunPipeline(DotnetRunner.Property("EnablePipelineCache", "false")).EnsureSucceeded()
            .EnsureMiss("a", "cache disabled")
            .EnsureMiss("b", "cache disabled");
    }

    [Fact]
    public void PipelineForceExecutesTheNamedStepsOnAHitAndReplacesTheirEntries()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("stamp.txt", "first\n");
        PipelineProject.Create(package.Version)
            .Step("a", "echo a > a.txt", outputs: "a.txt")
            // stamp.txt is read but left out of the key, so a new stamp alone is a hit: only forcing picks it up.
            .Step("b", "cat stamp.txt > b.txt", inputs: "stamp.txt", outputs: "b.txt", metadata: [new("IgnoredInputs", "stamp.txt")])
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded().EnsureMiss("a", "no earlier result").EnsureMiss("b", "no earlier result");

        workspace.WriteFile("stamp.txt", "second\n");
        workspace.RunPipeline(DotnetRunner.Property("PipelineForce", "b")).EnsureSucceeded().EnsureHit("a").EnsureMiss("b", "forced");
        Assert.Equal("second\n", workspace.ReadFile("b.txt"));

        // Without force, b is a hit again, and what it restores is the forced run's result.
        workspace.Delete("b.txt");
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("a").EnsureHit("b").EnsureLine("Restored 1 output file of b from the cache.");
        Assert.Equal("second\n", workspace.ReadFile("b.txt"));
        Assert.Single(StoreInspector.Of(workspace).Entries("b"));

        workspace.RunPipeline(DotnetRunner.Property("PipelineForce", "*")).EnsureSucceeded().EnsureMiss("a", "forced").EnsureMiss("b", "forced");
    }
}
