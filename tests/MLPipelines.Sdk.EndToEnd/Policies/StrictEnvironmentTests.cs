using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Policies;

/// <summary>
/// <c>PipelineStrictEnvironment=true</c> (issue 11 item 13, Turborepo's strict mode): a step sees a variable of the
/// build's environment only when it declares it (<c>EnvironmentDependencies</c>, which keys it) or it is passed
/// through (<c>PipelinePassThroughEnvironment</c>, the base set), so an undeclared variable cannot change an output
/// behind the key's back.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class StrictEnvironmentTests(SdkPackage package, ITestOutputHelper output)
{
    [Fact]
    public void AnUndeclaredVariableIsSeenOnlyWithoutStrictModeAndADeclaredOneIsSeenAndKeyed()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("show", "echo \"undeclared=[$MLP_E2E_UNDECLARED] declared=[$MLP_E2E_DECLARED] passed=[$MLP_E2E_PASSED] path=[${PATH:+set}]\" > seen.txt",
                outputs: "seen.txt", metadata: [new("EnvironmentDependencies", "MLP_E2E_DECLARED")])
            .Save(workspace);
        DotnetRunner Runner(string declared, string undeclared) =>
            new(workspace) { Environment = { ["MLP_E2E_DECLARED"] = declared, ["MLP_E2E_UNDECLARED"] = undeclared, ["MLP_E2E_PASSED"] = "p" } };
        string strict = DotnetRunner.Property("PipelineStrictEnvironment", "true");

        Runner("d1", "u1").RunPipeline().EnsureSucceeded().EnsureMiss("show", "no earlier result");
        Assert.Equal("undeclared=[u1] declared=[d1] passed=[p] path=[set]\n", workspace.ReadFile("seen.txt"));

        // Strict mode is in the key: the loose entry (which saw u1) is not reused, and the step sees nothing of it.
        Runner("d1", "u1").RunPipeline(strict).EnsureSucceeded().EnsureMiss("show",
            "cache settings changed (strategy=CodeHash;code=True;parameters=True;values=True;ids=False -> strategy=CodeHash;code=True;parameters=True;values=True;ids=False;env=strict)");
        Assert.Equal("undeclared=[] declared=[d1] passed=[] path=[set]\n", workspace.ReadFile("seen.txt"));

        // An undeclared variable cannot reach the output, so changing it keeps the hit, rightly.
        Runner("d1", "u2").RunPipeline(strict).EnsureSucceeded().EnsureHit("show");
        Assert.Equal("undeclared=[] declared=[d1] passed=[] path=[set]\n", workspace.ReadFile("seen.txt"));

        // A declared one is seen and keyed.
        Runner("d2", "u2").RunPipeline(strict).EnsureSucceeded().EnsureMiss("show", "environment MLP_E2E_DECLARED changed");
        Assert.Equal("undeclared=[] declared=[d2] passed=[] path=[set]\n", workspace.ReadFile("seen.txt"));

        // PipelinePassThroughEnvironment: seen, not keyed (the step re-ran only because its command is forced here).
        Runner("d2", "u2").RunPipeline(strict, DotnetRunner.Property("PipelinePassThroughEnvironment", "MLP_E2E_PASSED"),
            DotnetRunner.Property("PipelineForce", "show")).EnsureSucceeded();
        Assert.Equal("undeclared=[] declared=[d2] passed=[p] path=[set]\n", workspace.ReadFile("seen.txt"));
        Runner("d2", "u2").RunPipeline(strict, DotnetRunner.Property("PipelinePassThroughEnvironment", "MLP_E2E_PASSED")).EnsureSucceeded().EnsureHit("show");
    }
}
