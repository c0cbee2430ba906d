using System.Globalization;

namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>
/// The MLPipelines.Sdk package under test, packed from src/Sdk once per test run into a private feed.
/// Every run gets a new version: the NuGet SDK resolver reuses any same-version package it has already extracted,
/// which would silently test yesterday's build.
/// </summary>
/// <remarks>
/// Used as a collection fixture (see <see cref="EndToEndSuite"/>). The pack itself is a static lazy, so further
/// collections, if tests ever need to run in parallel, still share one pack. When the pack fails, the fixture's
/// constructor throws and every test of the collection fails with the pack's output.
/// </remarks>
public sealed class SdkPackage
{
    public const string PackageId = "MLPipelines.Sdk";

    private static readonly Lazy<string> Run = new(CreateRunDirectory, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<PackOutcome> Shared = new(Pack, LazyThreadSafetyMode.ExecutionAndPublication);

    public SdkPackage()
    {
        PackOutcome outcome = Shared.Value;
        if (!outcome.Result.Succeeded)
        {
            throw new InvalidOperationException($"Packing {PackageId} failed, so no end-to-end test can run.\n{outcome.Result}");
        }

        Version = outcome.Version;
        FeedDirectory = outcome.FeedDirectory;
        PackDuration = outcome.Result.Duration;
    }

    /// <summary>The folder of this test run: the feed and every workspace live below it, outside the repository.
    /// Deleted when the test process exits.</summary>
    public static string RunDirectory => Run.Value;

    /// <summary>The repository: the first folder above the test assembly that holds MLPipelines.Sdk.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public string Version { get; }

    public string FeedDirectory { get; }

    public TimeSpan PackDuration { get; }

    private static PackOutcome Pack()
    {
        // SemVer numeric identifiers may not start with 0: the time stamp never does, the random part is kept above 0.
        string version = string.Create(
            CultureInfo.InvariantCulture,
            $"1.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Random.Shared.Next(1, 100_000)}");
        string feed = Path.Combine(RunDirectory, "feed");
        Directory.CreateDirectory(feed);

        ProcessResult result = ProcessRunner.Run(
            ProcessRunner.DotnetExecutable,
            [
                "pack", Path.Combine(RepositoryRoot, "src", "Sdk", "MLPipelines.Sdk.csproj"),
                "-c", "Release",
                "-o", feed,
                $"-p:Version={version}",
                "-nr:false",
                "-tl:off",
            ],
            RepositoryRoot,
            timeout: TimeSpan.FromMinutes(5));

        string package = Path.Combine(feed, $"{PackageId}.{version}.nupkg");
        if (result.Succeeded && !File.Exists(package))
        {
            result = result with { ExitCode = -1, Output = result.Output + $"*** The pack succeeded but wrote no {package}.\n" };
        }

        return new PackOutcome(version, feed, result);
    }

    private static string CreateRunDirectory()
    {
        string directory = Path.Combine(
            Path.GetTempPath(),
            "mlp-e2e",
            string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyyMMddHHmmss}-{Environment.ProcessId}"));
        Directory.CreateDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteRunDirectory(directory);
        return directory;
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MLPipelines.Sdk.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No MLPipelines.Sdk.sln above {AppContext.BaseDirectory}.");
    }

    private static void DeleteRunDirectory(string directory)
    {
        if (Workspace.KeepWorkspaces)
        {
            return;
        }

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort at process exit: a leftover temp folder is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed record PackOutcome(string Version, string FeedDirectory, ProcessResult Result);
}
