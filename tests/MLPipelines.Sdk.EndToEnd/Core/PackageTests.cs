using System.IO.Compression;
using System.Xml.Linq;
using MLPipelines.Sdk.EndToEnd.TestKit;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.Core;

/// <summary>
/// The package is an MSBuild project SDK that carries everything its task needs (SPEC "What it is"): the SDK files,
/// the task assembly with its managed and native dependencies, none of MSBuild's own assemblies, and no NuGet
/// dependencies; and SQLite really loads inside a build.
/// </summary>
[Collection(EndToEndSuite.Name)]
public sealed class PackageTests(SdkPackage package, ITestOutputHelper output)
{
    private string PackagePath => Path.Combine(package.FeedDirectory, $"{SdkPackage.PackageId}.{package.Version}.nupkg");

    [Fact]
    public void PackageHoldsTheSdkFilesAndTheTaskWithItsDependencies()
    {
        using ZipArchive archive = ZipFile.OpenRead(PackagePath);
        List<string> entries = archive.Entries.Select(e => e.FullName.Replace('\\', '/')).ToList();
        output.WriteLine(string.Join('\n', entries));

        string[] required =
        [
            "Sdk/Sdk.props",
            "Sdk/Sdk.targets",
            "tasks/net10.0/MLPipelines.Tasks.dll",
            "tasks/net10.0/MLPipelines.Tasks.deps.json",
            "tasks/net10.0/runtimes/linux-x64/native/libe_sqlite3.so",
            "tasks/net10.0/Microsoft.Data.Sqlite.dll",
            "tasks/net10.0/System.IO.Hashing.dll",
            "tasks/net10.0/Polly.Core.dll", // The remote cache's retries, timeouts and breaker (issue 10).
        ];
        foreach (string file in required)
        {
            Assert.True(entries.Contains(file, StringComparer.Ordinal), $"The package lacks {file}. It holds:\n{string.Join('\n', entries)}");
        }

        // MSBuild supplies its own assemblies; a copy in the package would load next to them and break type identity.
        Assert.DoesNotContain(entries, e => Path.GetFileName(e).StartsWith("Microsoft.Build", StringComparison.OrdinalIgnoreCase)
                                            && e.EndsWith(".dll", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The task's managed assemblies are ReadyToRun images (issue 9: MLPipelinesReadyToRun in src/Sdk): MSBuild loads
    /// them afresh in every build, and JIT-compiling them cost a no-op a large part of its task time. An R2R image is
    /// one whose CLI header points at a managed native header (ECMA-335 II.25.3.3; crossgen's READYTORUN header).
    /// </summary>
    [Fact]
    public void TaskAssembliesAreReadyToRunImages()
    {
        using ZipArchive archive = ZipFile.OpenRead(PackagePath);
        string[] assemblies = ["MLPipelines.Tasks.dll", "Microsoft.Data.Sqlite.dll", "SQLitePCLRaw.core.dll", "System.IO.Hashing.dll", "Polly.Core.dll"];
        foreach (string name in assemblies)
        {
            ZipArchiveEntry entry = archive.GetEntry("tasks/net10.0/" + name) ?? throw new Xunit.Sdk.XunitException($"The package lacks tasks/net10.0/{name}.");
            using var bytes = new MemoryStream();
            using (Stream stream = entry.Open())
            {
                stream.CopyTo(bytes);
            }

            bytes.Position = 0;
            using var pe = new System.Reflection.PortableExecutable.PEReader(bytes);
            Assert.True(pe.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory.Size > 0, $"tasks/net10.0/{name} is IL only, not a ReadyToRun image.");
        }
    }

    [Fact]
    public void NuspecDeclaresAnMSBuildSdkWithoutDependencies()
    {
        using ZipArchive archive = ZipFile.OpenRead(PackagePath);
        ZipArchiveEntry nuspecEntry = Assert.Single(archive.Entries, e => e.FullName.EndsWith(".nuspec", StringComparison.OrdinalIgnoreCase));
        XDocument nuspec;
        using (Stream stream = nuspecEntry.Open())
        {
            nuspec = XDocument.Load(stream);
        }

        output.WriteLine(nuspec.ToString());
        List<XElement> packageTypes = nuspec.Descendants().Where(e => e.Name.LocalName == "packageType").ToList();
        Assert.Equal(["MSBuildSdk"], packageTypes.Select(e => (string?)e.Attribute("name")));
        // A user's restore must not pull anything in for the SDK: everything the task needs is inside the package.
        Assert.DoesNotContain(nuspec.Descendants(), e => e.Name.LocalName == "dependencies" && e.HasElements);
        Assert.DoesNotContain(nuspec.Descendants(), e => e.Name.LocalName == "dependency");
        Assert.Equal(package.Version, nuspec.Descendants().Single(e => e.Name.LocalName == "version").Value);
    }

    [Fact]
    public void SqliteLoadsInsideTheBuildAndRecordsEntries()
    {
        using Workspace workspace = Workspace.Create(package, output);
        PipelineProject.Create(package.Version)
            .Step("hello", "echo hello > out.txt", outputs: "out.txt")
            .Save(workspace);

        workspace.RunPipeline().EnsureSucceeded();

        Assert.True(workspace.FileExists(".mlpipelines/cache.db"), "No cache.db in .mlpipelines/.");
        var store = StoreInspector.Of(workspace);
        Assert.Single(store.TableNames(), "entries");
        Assert.Equal(["hello"], store.EntrySteps());
    }
}
