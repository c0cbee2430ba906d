using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Policies;

/// <summary>
/// The mirror of ZenML's caching example (a load_data step feeding a train_model step with a gamma parameter,
/// <c>enable_cache</c> per step and per pipeline), written the MSBuild way and run for real.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class ZenMLExampleTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void TheZenMLCachingExampleBehavesAsInZenML()
    {
        using Workspace workspace = Workspace.Create(package, output);
        workspace.WriteFile("raw/iris.csv", "sepal,petal,species\n5.1,1.4,setosa\n");
        PipelineProject.Create(package.Version)
            .PropertyDefault("Gamma", "0.002")
            .PropertyDefault("TrainCache", "true")
            .Step("load_data", "mkdir -p data && cp raw/iris.csv data/train.csv", inputs: "raw/iris.csv", outputs: "data/train.csv")
            .Step("train_model", "mkdir -p model && echo gamma=$PARAM_Gamma > model/model.txt && cat data/train.csv >> model/model.txt",
                inputs: "data/train.csv", outputs: "model/", parameters: "Gamma=$(Gamma)",
                metadata: [new("EnableCache", "$(TrainCache)")])
            .Save(workspace, "simple_ml_pipeline.proj");
        BuildResult Run(params string[] arguments) =>
            workspace.Build("simple_ml_pipeline.proj", [DotnetRunner.Target("RunPipeline"), .. arguments]).EnsureSucceeded();

        Run().EnsureMiss("load_data", "no earlier result").EnsureMiss("train_model", "no earlier result");
        Assert.StartsWith("gamma=0.002\n", workspace.ReadFile("model/model.txt"), StringComparison.Ordinal);

        // A new gamma: load_data comes from the cache, train_model runs again.
        BuildResult newGamma = Run(DotnetRunner.Property("Gamma", "0.0001"))
            .EnsureHit("load_data")
            .EnsureMiss("train_model", "parameter Gamma changed (0.002 -> 0.0001)");
        Assert.Single(newGamma.LinesContaining("Pipeline simple_ml_pipeline: 2 steps, 1 cached, 1 executed, hit rate 50%,"));
        Assert.StartsWith("gamma=0.0001\n", workspace.ReadFile("model/model.txt"), StringComparison.Ordinal);

        // @step(enable_cache=False) on train_model: it runs even with nothing changed.
        Run(DotnetRunner.Property("Gamma", "0.0001"), DotnetRunner.Property("TrainCache", "false"))
            .EnsureHit("load_data")
            .EnsureMiss("train_model", "cache disabled");

        // @pipeline(enable_cache=False): everything runs.
        Run(DotnetRunner.Property("Gamma", "0.0001"), DotnetRunner.Property("EnablePipelineCache", "false"))
            .EnsureMiss("load_data", "cache disabled")
            .EnsureMiss("train_model", "cache disabled");
    }
}
