using System.Runtime.CompilerServices;
using System.Text;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>
/// A temp folder of one test, outside the repository so none of its Directory.Build.* files apply:
/// <code>
/// &lt;root&gt;/nuget.config      only the test feed, and this workspace's packages folder
/// &lt;root&gt;/packages/         where restore extracts the SDK package
/// &lt;root&gt;/project/          the project: every relative path of these helpers starts here
/// </code>
/// Deleted on dispose (with one retry), unless MLP_KEEP_WORKSPACES=1 keeps it for a look.
/// </summary>
public sealed class Workspace : IDisposable
{
    public const string KeepVariable = "MLP_KEEP_WORKSPACES";

    private static int counter;
    private readonly bool ownsRoot;

    private Workspace(string root, string projectDirectory, ITestOutputHelper? output, bool ownsRoot)
    {
        Root = root;
        ProjectDirectory = projectDirectory;
        Output = output;
        this.ownsRoot = ownsRoot;
        Directory.CreateDirectory(projectDirectory);
    }

    public static bool KeepWorkspaces => System.Environment.GetEnvironmentVariable(KeepVariable) == "1";

    public string Root { get; }

    public string ProjectDirectory { get; }

    public string PackagesDirectory => Path.Combine(Root, "packages");

    /// <summary>Where builds in this workspace log their command line and output; xunit shows it for failed tests.</summary>
    public ITestOutputHelper? Output { get; }

    /// <summary>Variables every process run in this workspace gets (on top of <see cref="ProcessRunner"/>'s clean set).</summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?>
    {
        // The same folder as in nuget.config: the variable wins over the file, whatever the machine sets.
        ["NUGET_PACKAGES"] = PackagesDirectory,
        ["NUGET_FALLBACK_PACKAGES"] = null,
        // Run inside GitHub Actions, every test build would append its run summary to the job's page.
        ["GITHUB_STEP_SUMMARY"] = null,
    };

    /// <summary>Creates a workspace named after the calling test.</summary>
    public static Workspace Create(SdkPackage package, ITestOutputHelper? output = null, [CallerMemberName] string testName = "")
    {
        ArgumentNullException.ThrowIfNull(package);
        return Create(package.FeedDirectory, output, testName);
    }

    /// <summary>A workspace on any feed: for the kit's own tests, which need no package.</summary>
    internal static Workspace Create(string feedDirectory, ITestOutputHelper? output, string testName)
    {
        string root = Path.Combine(
            SdkPackage.RunDirectory,
            $"{testName}-{Interlocked.Increment(ref counter)}-{Path.GetRandomFileName().Replace(".", "", StringComparison.Ordinal)}");
        Directory.CreateDirectory(root);
        WriteNuGetConfig(root, feedDirectory, Path.Combine(root, "packages"));

        // Stops MSBuild's upward search for these files here: whatever sits in the temp folder above is not ours.
        foreach (string name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            File.WriteAllText(Path.Combine(root, name), "<Project>\n  <!-- Empty: keeps files above the workspace out of its builds. -->\n</Project>\n");
        }

        output?.WriteLine($"Workspace: {root}");
        return new Workspace(root, Path.Combine(root, "project"), output, ownsRoot: true);
    }

    /// <summary>The full path of <paramref name="relativePath"/> (either separator) below the project directory.</summary>
    public string GetPath(string relativePath = "")
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        return Path.GetFullPath(Path.Combine(ProjectDirectory, relativePath.Replace('\\', '/')));
    }

    public Workspace WriteFile(string relativePath, string content)
    {
        string path = GetPath(relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // No BOM and '\n' line ends: the bytes are the same on every OS, so hashes in tests are too.
        File.WriteAllText(path, content.ReplaceLineEndings("\n"), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return this;
    }

    public Workspace WriteBytes(string relativePath, byte[] content)
    {
        string path = GetPath(relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return this;
    }

    public string ReadFile(string relativePath) => File.ReadAllText(GetPath(relativePath));

    public byte[] ReadBytes(string relativePath) => File.ReadAllBytes(GetPath(relativePath));

    public bool FileExists(string relativePath) => File.Exists(GetPath(relativePath));

    public bool DirectoryExists(string relativePath) => Directory.Exists(GetPath(relativePath));

    /// <summary>Deletes a file or a whole directory; nothing happens when neither exists.</summary>
    public Workspace Delete(string relativePath)
    {
        string path = GetPath(relativePath);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        else
        {
            File.Delete(path);
        }

        return this;
    }

    public DateTime GetLastWriteTimeUtc(string relativePath) => File.GetLastWriteTimeUtc(GetPath(relativePath));

    /// <summary>Sets a file's modification time: touching a file without changing its content, or aging it.</summary>
    public Workspace SetLastWriteTimeUtc(string relativePath, DateTime timeUtc)
    {
        File.SetLastWriteTimeUtc(GetPath(relativePath), timeUtc);
        return this;
    }

    /// <summary>Every file below <paramref name="relativeDirectory"/>, relative to the project, with '/' separators, sorted.</summary>
    public IReadOnlyList<string> ListFiles(string relativeDirectory = "")
    {
        string directory = GetPath(relativeDirectory);
        if (!Directory.Exists(directory))
        {
            return [];
        }

        return Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(ProjectDirectory, file).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Copies the project to <paramref name="folder"/> (relative to the workspace root, e.g. "moved/elsewhere") and
    /// returns a view of the copy that shares this workspace's feed, packages and lifetime. bin/ and obj/ are never
    /// copied; the default store .mlpipelines/ only when <paramref name="withCache"/> is set.
    /// </summary>
    public Workspace CopyTo(string folder, bool withCache = false)
    {
        string target = Path.GetFullPath(Path.Combine(Root, folder));
        string[] skipped = withCache ? ["bin", "obj"] : ["bin", "obj", ".mlpipelines"];
        CopyDirectory(new DirectoryInfo(ProjectDirectory), target, skipped);
        Output?.WriteLine($"Copied {ProjectDirectory} to {target}");
        return new Workspace(Root, target, Output, ownsRoot: false);
    }

    /// <summary>
    /// Another, empty project directory in this workspace (<paramref name="folder"/>, relative to its root), sharing its
    /// feed, packages folder and lifetime: many small builds that restore the package once. Its builds log to
    /// <paramref name="output"/> (the calling test's).
    /// </summary>
    public Workspace Sibling(string folder, ITestOutputHelper? output)
    {
        string target = Path.GetFullPath(Path.Combine(Root, folder));
        if (Directory.Exists(target))
        {
            Directory.Delete(target, recursive: true);
        }

        return new Workspace(Root, target, output, ownsRoot: false);
    }

    /// <summary>Runs any other program (git, a step's script) in the project directory with the clean environment.</summary>
    public ProcessResult Run(string fileName, params string[] arguments)
    {
        ProcessResult result = ProcessRunner.Run(fileName, arguments, ProjectDirectory, Environment);
        Output?.WriteLine(result.ToString());
        return result;
    }

    public void Dispose()
    {
        if (!ownsRoot || !Directory.Exists(Root))
        {
            return;
        }

        if (KeepWorkspaces)
        {
            Output?.WriteLine($"Kept workspace {Root} ({KeepVariable}=1).");
            return;
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A process the build started may still be letting go of a file: wait once, then try again.
            Thread.Sleep(TimeSpan.FromSeconds(1));
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (Exception again) when (again is IOException or UnauthorizedAccessException)
            {
                Output?.WriteLine($"Could not delete workspace {Root}: {again.Message}");
            }
        }
    }

    private static void WriteNuGetConfig(string root, string feed, string packages)
    {
        // <clear/> everywhere: only the feed of this test run, no machine or user sources, no fallback folders.
        var config = new XElement(
            "configuration",
            new XElement(
                "packageSources",
                new XElement("clear"),
                new XElement("add", new XAttribute("key", "mlpipelines-test-feed"), new XAttribute("value", feed))),
            new XElement("fallbackPackageFolders", new XElement("clear")),
            new XElement("disabledPackageSources", new XElement("clear")),
            new XElement("config", new XElement("add", new XAttribute("key", "globalPackagesFolder"), new XAttribute("value", packages))));
        new XDocument(config).Save(Path.Combine(root, "nuget.config"));
    }

    private static void CopyDirectory(DirectoryInfo source, string target, string[] skipped)
    {
        // Like `cp -a`: modification times come along, so identity-based keys (path, size, time) can match too.
        Directory.CreateDirectory(target);
        foreach (FileInfo file in source.EnumerateFiles())
        {
            FileInfo copy = file.CopyTo(Path.Combine(target, file.Name), overwrite: true);
            copy.LastWriteTimeUtc = file.LastWriteTimeUtc;
        }

        foreach (DirectoryInfo child in source.EnumerateDirectories())
        {
            // Only the project's own bin/, obj/ and store are left out, not a step output that happens to be called so.
            if (!skipped.Contains(child.Name, StringComparer.Ordinal))
            {
                CopyDirectory(child, Path.Combine(target, child.Name), []);
            }
        }
    }
}
