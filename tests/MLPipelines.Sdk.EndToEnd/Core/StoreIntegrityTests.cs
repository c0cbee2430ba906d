using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// SPEC "Failure and bad input": a damaged store is detected before anything is restored; the step executes instead
/// and the bad entry is replaced.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class StoreIntegrityTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void AnAlteredObjectIsDetectedBeforeRestoringAndTheStepExecutesInstead()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .TracedStep("train", @"printf 'w\000\001\377' > model.bin", outputs: "model.bin")
            .Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        byte[] model = workspace.ReadBytes("model.bin");
        string objectFile = ObjectFileOf(workspace, "train");
        Assert.Equal(model, File.ReadAllBytes(objectFile));

        // Same length, other bytes: only a hash check finds it.
        byte[] altered = (byte[])model.Clone();
        altered[0] ^= 0xFF;
        File.SetAttributes(objectFile, FileAttributes.Normal);
        File.WriteAllBytes(objectFile, altered);
        workspace.Delete("model.bin").ClearExecuted();
        BuildResult damaged = workspace.RunPipeline().EnsureSucceeded();

        BuildMessage warning = Assert.Single(damaged.Warnings, w => w.Code == "MLP3002");
        Assert.Contains("'train'", warning.Message, StringComparison.Ordinal);
        damaged.EnsureMiss("train", "cached result damaged");
        Assert.Empty(damaged.LinesContaining("Restored "));
        Assert.Equal(["train"], workspace.Executed());
        Assert.Equal(model, workspace.ReadBytes("model.bin"));

        workspace.Delete("model.bin").ClearExecuted();
        BuildResult healed = workspace.RunPipeline().EnsureSucceeded();

        healed.EnsureHit("train").EnsureLine("Restored 1 output file of train from the cache.");
        Assert.Empty(healed.Warnings);
        Assert.Empty(workspace.Executed());
        Assert.Equal(model, workspace.ReadBytes("model.bin"));
    }

    /// <summary>
    /// Hostile manifests edited into cache.db (SPEC "Failure and bad input": no row of the store can make the SDK write
    /// or delete anything outside the project and the store): each is a corrupt entry, so the step executes instead
    /// (MLP3002), nothing appears or changes beside the project, and the next build hits the replaced entry.
    /// </summary>
    [Theory]
    [InlineData("escaping path, setuid mode", "json_set(manifest, '$[0].path', '../escaped.txt', '$[0].mode', 3583)")]
    [InlineData("hash naming a file outside", "json_set(manifest, '$[0].hash', '../../../victim.txt')")]
    [InlineData("path outside the outputs", "json_set(manifest, '$[0].path', 'pipeline.proj')")]
    [InlineData("null item", "'[null]'")]
    [InlineData("null path", "json_set(manifest, '$[0].path', json('null'))")]
    [InlineData("not JSON", "'{not json'")]
    public void AHostileManifestIsACorruptEntryAndNothingOutsideIsTouched(string kind, string manifest)
    {
        using Workspace workspace = Workspace.Create(package, output, "HostileManifest-" + kind.Replace(' ', '-').Replace(",", "", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(workspace.Root, "victim.txt"), "keep");
        PipelineProject.Create(package.Version).TracedStep("train", "mkdir -p model && echo w > model/w.bin", outputs: "model/").Save(workspace);
        workspace.RunPipeline().EnsureSucceeded();
        string project = workspace.ReadFile(PipelineRuns.Project);
        Assert.Equal(1, StoreInspector.Of(workspace).Execute($"UPDATE entries SET manifest = {manifest} WHERE step = 'train'"));
        List<string> beside = Beside(workspace);
        workspace.Delete("model").ClearExecuted();

        BuildResult damaged = workspace.RunPipeline().EnsureSucceeded();

        Assert.Contains(damaged.Warnings, w => w.Code == "MLP3002" && w.Message.Contains("'train'", StringComparison.Ordinal));
        Assert.Equal(["train"], workspace.Executed());
        Assert.Equal("w\n", workspace.ReadFile("model/w.bin"));
        Assert.Equal(project, workspace.ReadFile(PipelineRuns.Project));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(workspace.Root, "victim.txt")));
        Assert.Equal(beside, Beside(workspace));
        damaged.EnsureNoStackTrace();

        workspace.Delete("model").ClearExecuted();
        workspace.RunPipeline().EnsureSucceeded().EnsureHit("train");
        Assert.Empty(workspace.Executed());
    }

    /// <summary>Every path in the workspace but the project directory (the feed and packages folder are elsewhere or unchanged).</summary>
    private static List<string> Beside(Workspace workspace) =>
        Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(workspace.Root)!, "*", SearchOption.TopDirectoryOnly)
            .Concat(Directory.EnumerateFileSystemEntries(workspace.Root, "*", SearchOption.TopDirectoryOnly))
            .Where(p => p != workspace.ProjectDirectory)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The one object file of the step's entry: <c>objects/&lt;2 hex&gt;/&lt;hash&gt;</c>.</summary>
    private static string ObjectFileOf(Workspace workspace, string step)
    {
        string hash = Assert.Single(StoreInspector.Of(workspace).EntryObjectHashes(step));
        string file = workspace.GetPath($".mlpipelines/objects/{hash[..2]}/{hash}");
        Assert.True(File.Exists(file), $"No object file {file}.");
        return file;
    }
}
