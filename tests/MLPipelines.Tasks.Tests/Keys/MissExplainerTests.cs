using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Keys;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Keys;

public sealed class MissExplainerTests : IDisposable
{
    private readonly TempDirectory _project = new();

    public MissExplainerTests()
    {
        _project.Write("train.cs", "v1");
        _project.Write("data/train.csv", "1,2");
    }

    public void Dispose() => _project.Dispose();

    private static StepDefinition Train() => new()
    {
        Name = "train",
        Command = "dotnet run train.cs",
        Code = ["train.cs"],
        Inputs = ["data/train.csv"],
        Parameters = [new("Gamma", "0.002")],
    };

    private IReadOnlyList<KeyComponent> Components(StepDefinition step) =>
        new StepKeyCalculator(_project.Path, "iris", new FileHasher(), new byte[32]).Compute(step).Components;

    private static KeyComponent Param(string name, string value) => new(ComponentKind.Parameter, name, ContentHash.OfText(value), value);

    [Fact]
    public void AChangedParameterShowsBothValues()
    {
        var before = Components(Train());
        var after = Components(Train() with { Parameters = [new("Gamma", "0.0001")] });

        Assert.Equal("parameter Gamma changed (0.002 -> 0.0001)", MissExplainer.Explain(before, after));
    }

    [Fact]
    public void AChangedInputNamesTheFile()
    {
        var before = Components(Train());
        _project.Write("data/train.csv", "1,3");

        Assert.Equal("input data/train.csv changed", MissExplainer.Explain(before, Components(Train())));
    }

    [Fact]
    public void ChangedCodeNamesTheFile()
    {
        var before = Components(Train());
        _project.Write("train.cs", "v2");

        Assert.Equal("code train.cs changed", MissExplainer.Explain(before, Components(Train())));
    }

    [Fact]
    public void AChangedCacheVersionShowsBothVersions()
    {
        var before = Components(Train() with { CacheVersion = "v1" });
        var after = Components(Train() with { CacheVersion = "v2" });

        Assert.Equal("cache version v1 -> v2", MissExplainer.Explain(before, after));
    }

    [Fact]
    public void AChangedCommandQuotesBothCommands()
    {
        var before = Components(Train());
        var after = Components(Train() with { Command = "dotnet run train.cs --fast" });

        Assert.Equal("command changed ('dotnet run train.cs' -> 'dotnet run train.cs --fast')", MissExplainer.Explain(before, after));
    }

    [Fact]
    public void AddedAndRemovedComponentsAreNamed()
    {
        var before = Components(Train());
        _project.Write("data/extra.csv", "3,4");
        var after = Components(Train() with
        {
            Parameters = [new("Gamma", "0.002"), new("Beta", "1")],
            Inputs = ["data/train.csv", "data/extra.csv"],
        });

        Assert.Equal("input data/extra.csv added; parameter Beta added (1)", MissExplainer.Explain(before, after));
        Assert.Equal("input data/extra.csv removed; parameter Beta removed", MissExplainer.Explain(after, before));
    }

    [Fact]
    public void ChangedUpstreamOutputsNameTheUpstreamStep()
    {
        var step = Train() with { DependsOn = ["train_prep"] };
        var calculator = new StepKeyCalculator(_project.Path, "iris", new FileHasher(), new byte[32]);
        var before = calculator.Compute(step, upstreamOutputs: _ => OutputsDigest.Of([new("model.bin", ContentHash.OfText("gamma=1"), 7, 0)])).Components;
        var after = calculator.Compute(step, upstreamOutputs: _ => OutputsDigest.Of([new("model.bin", ContentHash.OfText("gamma=2"), 7, 0)])).Components;

        Assert.Equal("outputs of upstream step train_prep changed", MissExplainer.Explain(before, after));
    }

    [Fact]
    public void AnAddedOrRemovedDependencyIsNamedOnceNotAgainForItsOutputs()
    {
        var calculator = new StepKeyCalculator(_project.Path, "iris", new FileHasher(), new byte[32]);
        var without = calculator.Compute(Train(), upstreamOutputs: _ => "digest").Components;
        var with = calculator.Compute(Train() with { DependsOn = ["load"] }, upstreamOutputs: _ => "digest").Components;

        Assert.Equal("dependency on load added", MissExplainer.Explain(without, with));
        Assert.Equal("dependency on load removed", MissExplainer.Explain(with, without));
    }

    [Fact]
    public void UpstreamOutputsAddedWithoutADependencyAreNamed()
    {
        IReadOnlyList<KeyComponent> before = [Param("A", "1")];
        IReadOnlyList<KeyComponent> after = [Param("A", "1"), new(ComponentKind.UpstreamOutputs, "gen", "digest")];

        Assert.Equal("outputs of upstream step gen added", MissExplainer.Explain(before, after));
        Assert.Equal("outputs of upstream step gen removed", MissExplainer.Explain(after, before));
    }

    [Fact]
    public void AnAddedCacheVersionShowsIt()
    {
        Assert.Equal("cache version added (v1)", MissExplainer.Explain(Components(Train()), Components(Train() with { CacheVersion = "v1" })));
    }

    [Fact]
    public void MoreThanFourReasonsAreSummarised()
    {
        IReadOnlyList<KeyComponent> before = [Param("A", "1"), Param("B", "1"), Param("C", "1"), Param("D", "1"), Param("E", "1"), Param("F", "1")];
        IReadOnlyList<KeyComponent> after = [Param("A", "2"), Param("B", "2"), Param("C", "2"), Param("D", "2"), Param("E", "2"), Param("F", "2")];

        Assert.Equal(
            "parameter A changed (1 -> 2); parameter B changed (1 -> 2); parameter C changed (1 -> 2); parameter D changed (1 -> 2); and 2 more",
            MissExplainer.Explain(before, after));
    }

    [Fact]
    public void AParameterKeptOnlyAsAHashIsSaidToHaveChanged()
    {
        var before = new KeyComponent(ComponentKind.Parameter, "Blob", ContentHash.OfText("a"));
        var after = new KeyComponent(ComponentKind.Parameter, "Blob", ContentHash.OfText("b"));

        Assert.Equal("parameter Blob changed", MissExplainer.Explain([before], [after]));
    }

    [Fact]
    public void IdenticalComponentsSayNothingDiffers()
    {
        var components = Components(Train());

        Assert.StartsWith("no difference in key components", MissExplainer.Explain(components, components), StringComparison.Ordinal);
    }

    [Fact]
    public void InputsDeclaredTwiceThroughOverlappingPathsAreExplainedOnce()
    {
        // "data/" and "data/train.csv" both hold data/train.csv: the key has that file twice.
        var step = Train() with { Inputs = ["data/", "data/train.csv"] };
        var before = Components(step);
        _project.Write("data/train.csv", "1,3");

        Assert.Equal("input data/train.csv changed", MissExplainer.Explain(before, Components(step)));
    }

    [Fact]
    public void AParameterDeclaredTwiceIsExplainedWithoutFailing()
    {
        var step = Train() with { Parameters = [new("Gamma", "0.002"), new("Gamma", "0.003")] };
        var before = Components(step);
        var after = Components(step with { Parameters = [new("Gamma", "0.002"), new("Gamma", "0.004")] });

        Assert.Equal("parameter Gamma changed (0.003 -> 0.004)", MissExplainer.Explain(before, after)); // the value the command sees: the last
    }
}
