using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Keys;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Keys;

/// <summary>
/// The environment fingerprint (issue 10 §3): declared tools' versions and, on request, the platform join a step's key
/// as components of their own, and a miss names the one that changed with both values.
/// </summary>
public sealed class ToolAndPlatformKeyTests : IDisposable
{
    private readonly TempDirectory _project = new();

    public ToolAndPlatformKeyTests() => _project.Write("train.py", "print('train')");

    public void Dispose() => _project.Dispose();

    private static StepDefinition Train() => new() { Name = "train", Command = "python3 train.py", Code = ["train.py"], Outputs = ["model/"] };

    private static Dictionary<string, string> Versions(string python = "3.11.4", string dotnet = "10.0.100") =>
        new(StringComparer.OrdinalIgnoreCase) { ["python"] = python, ["dotnet"] = dotnet };

    private StepKey Key(StepDefinition step, IReadOnlyDictionary<string, string>? tools = null, bool platformByDefault = false, string platform = "linux-x64") =>
        new StepKeyCalculator(_project.Path, "iris", new FileHasher(), new byte[32])
        {
            ToolVersions = tools,
            KeyPlatformByDefault = platformByDefault,
            PlatformName = platform,
        }.Compute(step);

    [Fact]
    public void EveryDeclaredToolJoinsTheKeyOfAStepThatNamesNoneWithItsVersionInClear()
    {
        var key = Key(Train(), Versions());

        Assert.Equal(
            [("dotnet", "10.0.100"), ("python", "3.11.4")],
            key.Components.Where(c => c.Kind == ComponentKind.Tool).Select(c => (c.Name, c.Value!)));
        Assert.NotEqual(Key(Train(), Versions()).Value, Key(Train(), Versions(python: "3.12.1")).Value);
    }

    [Fact]
    public void AStepThatNamesItsToolsIsKeyedOnlyByThem()
    {
        var step = Train() with { Tools = ["Python"] };

        Assert.Equal(["python"], Key(step, Versions()).Components.Where(c => c.Kind == ComponentKind.Tool).Select(c => c.Name));
        Assert.NotEqual(Key(step, Versions()).Value, Key(step, Versions(python: "3.12.1")).Value);
        Assert.Equal(Key(step, Versions()).Value, Key(step, Versions(dotnet: "10.0.200")).Value);
    }

    [Fact]
    public void AStepWithNoToolHasTheKeyItHadBeforeToolsExisted()
    {
        var before = Key(Train());

        Assert.Equal(before.Value, Key(Train() with { Tools = [] }, Versions()).Value);
        Assert.Equal(before.Components, Key(Train() with { Tools = [] }, Versions()).Components);
        Assert.DoesNotContain(before.Components, c => c.Kind is ComponentKind.Tool or ComponentKind.Platform);
    }

    [Fact]
    public void AToolNamedWithoutAKnownVersionNeverGivesTheSameKeyTwice()
    {
        var step = Train() with { Tools = ["cuda"] };

        Assert.NotEqual(Key(step, Versions()).Value, Key(step, Versions()).Value);
    }

    [Fact]
    public void ThePlatformJoinsTheKeyOfAStepThatOptsIn()
    {
        var step = Train() with { Platform = true };

        Assert.Contains(Key(step).Components, c => c is { Kind: ComponentKind.Platform, Value: "linux-x64" });
        Assert.NotEqual(Key(step).Value, Key(step, platform: "osx-arm64").Value);
        Assert.Equal(Key(Train()).Value, Key(Train(), platform: "osx-arm64").Value);
    }

    [Fact]
    public void PipelineKeyPlatformKeysEveryStepThatDoesNotSayOtherwise()
    {
        Assert.NotEqual(Key(Train(), platformByDefault: true).Value, Key(Train(), platformByDefault: true, platform: "osx-arm64").Value);

        var optedOut = Train() with { Platform = false };
        Assert.Equal(Key(optedOut).Value, Key(optedOut, platformByDefault: true, platform: "osx-arm64").Value);
    }

    [Fact]
    public void TheHostPlatformIsTheOperatingSystemAndArchitecture()
    {
        Assert.Matches("^(linux|osx|win|freebsd|[a-z0-9]+)-(x64|x86|arm64|arm|[a-z0-9]+)$", HostPlatform.Name);
        if (OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64)
        {
            Assert.Equal("linux-x64", HostPlatform.Name);
        }
    }

    [Fact]
    public void AMissNamesTheToolThatChangedWithBothVersions()
    {
        var step = Train() with { Tools = ["python"] };

        Assert.Equal("tool python changed (3.11.4 -> 3.12.1)",
            MissExplainer.Explain(Key(step, Versions()).Components, Key(step, Versions(python: "3.12.1")).Components));
        Assert.Equal("tool dotnet added (10.0.100)",
            MissExplainer.Explain(Key(step, Versions()).Components, Key(step with { Tools = ["python", "dotnet"] }, Versions()).Components));
    }

    [Fact]
    public void AMissNamesThePlatformThatChanged()
    {
        var step = Train() with { Platform = true };

        Assert.Equal("platform changed (linux-x64 -> osx-arm64)", MissExplainer.Explain(Key(step).Components, Key(step, platform: "osx-arm64").Components));
        Assert.Equal("platform added (linux-x64)", MissExplainer.Explain(Key(Train()).Components, Key(step).Components));
    }
}
