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

    /// <summary>The one object file of the step's entry: <c>objects/&lt;2 hex&gt;/&lt;hash&gt;</c>.</summary>
    private static string ObjectFileOf(Workspace workspace, string step)
    {
        string hash = Assert.Single(StoreInspector.Of(workspace).EntryObjectHashes(step));
        string file = workspace.GetPath($".mlpipelines/objects/{hash[..2]}/{hash}");
        Assert.True(File.Exists(file), $"No object file {file}.");
        return file;
    }
}
