using System.Xml.Linq;

namespace MLPipelines.Tasks.Tests.Configuration;

/// <summary>
/// "The plan must be the run" (issue 11): PlanPipeline and ShowPipelineGraph compute every step's key as RunPipeline
/// does, so each must be handed every property that RunPipeline's key or step selection reads. Sdk.targets lists the
/// task parameters three times; a property added to RunPipeline alone (as PipelineStrictEnvironment once was to
/// ShowPipelineGraph) makes the plan and the graph predict misses, or hits, the run would not have.
/// </summary>
public sealed class SdkTargetsTests
{
    /// <summary>
    /// RunPipeline's parameters that change how a run executes or what it records, never a key or which steps start;
    /// and MSBuild's own attributes of every task element. PipelineContinueOnError and PipelineMaxParallelism decide
    /// which steps fail fast leaves unstarted, so the plan gets them.
    /// </summary>
    private static readonly HashSet<string> RunOnly = new(StringComparer.Ordinal)
    {
        "Condition", "ContinueOnError",
        "CacheMaxAge", "CacheMaxSize", "RunHistoryLimit", "LockTimeout", "SummaryFile", "ReplayLogs",
    };

    [Theory]
    [InlineData("PlanPipeline")]
    [InlineData("ShowPipelineGraph")]
    public void DryRunTasksGetEveryPropertyTheRunKeysBy(string task)
    {
        var targets = XDocument.Load(Path.Combine(RepositoryRoot(), "src", "Sdk", "Sdk", "Sdk.targets"));
        var run = TaskElement(targets, "RunPipeline");
        var dry = TaskElement(targets, task);

        var keyed = run.Attributes().Where(a => !RunOnly.Contains(a.Name.LocalName)).ToList();
        Assert.NotEmpty(keyed);
        foreach (var attribute in keyed)
        {
            Assert.True(dry.Attribute(attribute.Name)?.Value == attribute.Value,
                $"{task} in Sdk.targets lacks {attribute.Name}=\"{attribute.Value}\", which RunPipeline gets: its plan would differ from the run.");
        }
    }

    /// <summary>The task element (not the target of the same name) inside the target that calls it.</summary>
    private static XElement TaskElement(XDocument targets, string task) =>
        targets.Descendants("Target").Elements(task).Single();

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MLPipelines.Sdk.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No MLPipelines.Sdk.sln above {AppContext.BaseDirectory}.");
    }
}
