using System.Runtime.Versioning;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// <c>PipelineStrictEnvironment</c>: a step's command and its CacheKeyCommand inherit only declared variables
/// (<c>EnvironmentDependencies</c>, keyed; <c>PipelinePassThroughEnvironment</c>, not keyed) and the base set, and the
/// mode itself is in the key. Variables are set in this process's environment, so the class runs alone.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
[Collection(nameof(RemoteCacheVariablesInProcessEnvironment))]
public sealed class StrictEnvironmentTests : IDisposable
{
    // DOTNET_MLP_STRICT_BASE and LC_MLP_STRICT_BASE stand for the base set (DOTNET_*, LC_*): the test sets them itself
    // rather than relying on HOME or LANG, which a CI host may not set at all.
    private static readonly string[] Variables =
        ["MLP_STRICT_UNDECLARED", "MLP_STRICT_DECLARED", "MLP_STRICT_PASSED", "MLP_STRICT_PREFIX_A", "DOTNET_MLP_STRICT_BASE", "LC_MLP_STRICT_BASE"];

    private readonly PipelineHarness _pipeline = new();

    public StrictEnvironmentTests()
    {
        foreach (var name in Variables)
        {
            Environment.SetEnvironmentVariable(name, "value-of-" + name);
        }
    }

    public void Dispose()
    {
        foreach (var name in Variables)
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        _pipeline.Dispose();
    }

    private Func<PipelineOptions, PipelineOptions> Strict(params string[] passThrough) =>
        options => options with { StrictEnvironment = new StrictEnvironment(passThrough), ProjectFile = _pipeline.Project.Combine("p.proj") };

    [Fact]
    public async Task AStrictStepSeesOnlyDeclaredVariablesTheBaseSetItsEnvironmentAndParameters()
    {
        _pipeline.Step("dump", "env > out.txt", ("Outputs", "out.txt"),
            ("EnvironmentDependencies", "MLP_STRICT_DECLARED"), ("Environment", "OWN=set"), ("Parameters", "Rate=3"));

        var run = await _pipeline.RunAsync(Strict("MLP_STRICT_PASSED", "MLP_STRICT_PREFIX_*"));

        run.AssertOutcome("dump", StepOutcome.Executed);
        var dump = _pipeline.Project.Read("out.txt");
        Assert.DoesNotContain("MLP_STRICT_UNDECLARED", dump, StringComparison.Ordinal);
        Assert.Contains("MLP_STRICT_DECLARED=value-of-MLP_STRICT_DECLARED", dump, StringComparison.Ordinal);
        Assert.Contains("MLP_STRICT_PASSED=value-of-MLP_STRICT_PASSED", dump, StringComparison.Ordinal);
        Assert.Contains("MLP_STRICT_PREFIX_A=value-of-MLP_STRICT_PREFIX_A", dump, StringComparison.Ordinal);
        Assert.Contains("OWN=set", dump, StringComparison.Ordinal);
        Assert.Contains("PARAM_Rate=3", dump, StringComparison.Ordinal);
        Assert.Contains("PATH=", dump, StringComparison.Ordinal);
        Assert.Contains("DOTNET_MLP_STRICT_BASE=value-of-DOTNET_MLP_STRICT_BASE", dump, StringComparison.Ordinal);
        Assert.Contains("LC_MLP_STRICT_BASE=value-of-LC_MLP_STRICT_BASE", dump, StringComparison.Ordinal);
        // The pipeline's own recursion guard is set explicitly, so it survives the filter.
        Assert.Contains(RecursionGuard.VariableName + "=", dump, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutStrictModeTheStepSeesTheWholeEnvironment()
    {
        _pipeline.Step("dump", "env > out.txt", ("Outputs", "out.txt"));

        var run = await _pipeline.RunAsync();

        run.AssertOutcome("dump", StepOutcome.Executed);
        Assert.Contains("MLP_STRICT_UNDECLARED=value-of-MLP_STRICT_UNDECLARED", _pipeline.Project.Read("out.txt"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACacheKeyCommandInheritsWhatItsStepDoes()
    {
        _pipeline.Step("keyed", "echo done > done.txt", ("Outputs", "done.txt"), ("EnvironmentDependencies", "MLP_STRICT_DECLARED"),
            ("CacheKeyCommand", "env > key-env.txt; echo key"));

        var run = await _pipeline.RunAsync(Strict());

        run.AssertOutcome("keyed", StepOutcome.Executed);
        var dump = _pipeline.Project.Read("key-env.txt");
        Assert.DoesNotContain("MLP_STRICT_UNDECLARED", dump, StringComparison.Ordinal);
        Assert.Contains("MLP_STRICT_DECLARED=value-of-MLP_STRICT_DECLARED", dump, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SwitchingStrictModeChangesTheKeySoNeitherModeReusesTheOthersEntry()
    {
        _pipeline.Step("dump", "env | grep ^MLP_STRICT_ | sort > out.txt", ("Outputs", "out.txt"));

        (await _pipeline.RunAsync()).AssertOutcome("dump", StepOutcome.Executed);
        var strict = await _pipeline.RunAsync(Strict());
        strict.AssertOutcome("dump", StepOutcome.Executed);
        Assert.Equal("", _pipeline.Project.Read("out.txt"));
        (await _pipeline.RunAsync(Strict())).AssertOutcome("dump", StepOutcome.Cached);
        Assert.Contains(strict.Log.Messages, m => m.Contains("cache settings changed", StringComparison.Ordinal) && m.Contains("env=strict", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADeclaredVariableKeysTheStepInStrictMode()
    {
        _pipeline.Step("dump", "echo \"$MLP_STRICT_DECLARED\" > out.txt", ("Outputs", "out.txt"), ("EnvironmentDependencies", "MLP_STRICT_DECLARED"));

        (await _pipeline.RunAsync(Strict())).AssertOutcome("dump", StepOutcome.Executed);
        (await _pipeline.RunAsync(Strict())).AssertOutcome("dump", StepOutcome.Cached);
        Environment.SetEnvironmentVariable("MLP_STRICT_DECLARED", "other");
        var changed = await _pipeline.RunAsync(Strict());

        changed.AssertOutcome("dump", StepOutcome.Executed);
        Assert.Equal("other\n", _pipeline.Project.Read("out.txt"));
    }

    [Fact]
    public async Task ALowerCaseTwinOfABaseSetNameIsRemovedInStrictMode()
    {
        Environment.SetEnvironmentVariable("path", "lower-path");
        Environment.SetEnvironmentVariable("dotnet_foo", "lower-dotnet");
        try
        {
            _pipeline.Step("dump", "env > out.txt", ("Outputs", "out.txt"));

            (await _pipeline.RunAsync(Strict())).AssertOutcome("dump", StepOutcome.Executed);

            var dump = _pipeline.Project.Read("out.txt");
            Assert.DoesNotContain("path=lower-path", dump, StringComparison.Ordinal);
            Assert.DoesNotContain("dotnet_foo=", dump, StringComparison.Ordinal);
            Assert.Contains("PATH=", dump, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("path", null);
            Environment.SetEnvironmentVariable("dotnet_foo", null);
        }
    }

    [Theory]
    [InlineData("PATH", true)]
    [InlineData("LC_ALL", true)]
    [InlineData("DOTNET_ROOT", true)]
    [InlineData("NUGET_PACKAGES", true)]
    [InlineData("SystemRoot", true)]
    [InlineData("ComSpec", true)]
    [InlineData("PATHEXT", true)]
    [InlineData("AWS_SECRET_ACCESS_KEY", false)]
    [InlineData("MODEL_SEED", false)]
    [InlineData("PATHS", false)]
    [InlineData("LC", false)]
    // On Unix another case is another variable, which would reach the step unkeyed (Windows matches these).
    [InlineData("Path", false)]
    [InlineData("path", false)]
    [InlineData("home", false)]
    [InlineData("ci", false)]
    [InlineData("lc_x", false)]
    [InlineData("dotnet_foo", false)]
    [InlineData("SYSTEMROOT", false)]
    public void TheBaseSetIsExactNamesAndPrefixesMatchedWithCaseOnUnix(string name, bool inBaseSet) =>
        Assert.Equal(inBaseSet, StrictEnvironment.IsInBaseSet(name));

    [Fact]
    public void DeclaredNamesMatchExactlyOnUnix()
    {
        var step = new StepDefinition { Name = "s", Command = "true", EnvironmentDependencies = ["Seed"] };
        var inherits = new StrictEnvironment(["Token"]).InheritedBy(step);

        Assert.True(inherits("Seed"));
        Assert.False(inherits("SEED"));
        Assert.True(inherits("Token"));
        Assert.False(inherits("TOKEN"));
        Assert.False(inherits("Other"));
    }
}
