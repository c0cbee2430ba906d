using System.Collections;
using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Paths;
using MLPipelines.Engine.Remote;
using MLPipelines.Engine.Store;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace MLPipelines.Tasks;

/// <summary>Translation between MSBuild's shapes (items, property strings, global properties) and the engine's.</summary>
internal static class TaskInputs
{
    public static RawStep ToRawStep(ITaskItem item)
    {
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in item.CloneCustomMetadata())
        {
            metadata[(string)entry.Key] = (string?)entry.Value ?? "";
        }

        return new RawStep(item.ItemSpec, metadata);
    }

    public static PipelineOptions ReadOptions(PipelineTask task, List<PipelineDiagnostic> diagnostics)
    {
        var projectDirectory = Path.GetDirectoryName(Path.GetFullPath(task.ProjectFile))!;
        var cacheEnabled = PropertyParser.ParseBool(task.EnablePipelineCache, "EnablePipelineCache", diagnostics) ?? true;

        // Given on the command line, EnablePipelineCache overrides every step; set in the project, it is only the default.
        var global = (task.BuildEngine as IBuildEngine6)?.GetGlobalProperties();
        var fromCommandLine = global is not null && global.ContainsKey("EnablePipelineCache");
        var cacheDirectory = task.CacheDirectory;
        if (cacheDirectory.Contains('\0', StringComparison.Ordinal))
        {
            // No file path can hold a NUL; the default folder stands in so nothing below throws (and nothing runs).
            diagnostics.Add(new(ErrorCodes.InvalidProperty, null,
                $"Property PipelineCacheDir='{StepParser.Shown(cacheDirectory)}' is not valid: a path cannot hold a NUL character (%00)."));
            cacheDirectory = ".mlpipelines";
        }

        // Checked even when strict mode is off, so a name that could never pass through is found before it is needed.
        var passThrough = PropertyParser.ParsePassThrough(task.PassThroughEnvironment, diagnostics);
        return new PipelineOptions
        {
            PipelineName = task.PipelineName,
            ProjectFile = Path.GetFullPath(task.ProjectFile),
            ProjectDirectory = projectDirectory,
            CacheDirectory = Path.GetFullPath(cacheDirectory, projectDirectory),
            CacheEnabledByDefault = cacheEnabled,
            CacheOverride = fromCommandLine ? cacheEnabled : null,
            MaxParallelism = PropertyParser.ParsePositiveInt(task.MaxParallelism, "PipelineMaxParallelism", diagnostics) ?? Environment.ProcessorCount,
            SelectedSteps = StepParser.SplitStepNames(task.SelectedSteps),
            ForcedSteps = StepParser.SplitStepNames(task.ForcedSteps),
            ResumeFrom = ResumePoint.Parse(task.ResumeFrom, diagnostics),
            // Credentials and the signing key come from the build's environment only, never from a property.
            RemoteCache = RemoteCacheOptions.Parse(task.RemoteCache, task.RemoteCacheMode, Environment.GetEnvironmentVariable, diagnostics),
            ProjectSources = ReadProjectSources(task.SourceFiles, projectDirectory),
            CacheMaxAge = PropertyParser.ParseDuration(task.CacheMaxAge, "PipelineCacheMaxAge", diagnostics) ?? TimeSpan.FromDays(28),
            CacheMaxSizeBytes = PropertyParser.ParseSize(task.CacheMaxSize, "PipelineCacheMaxSize", diagnostics),
            RunHistoryLimit = PropertyParser.ParsePositiveInt(task.RunHistoryLimit, "PipelineRunHistoryLimit", diagnostics) ?? CacheStore.DefaultRunHistoryLimit,
            LockTimeout = PropertyParser.ParseDuration(task.LockTimeout, "PipelineLockTimeout", diagnostics, allowZero: true) ?? PipelineOptions.DefaultLockTimeout,
            Tools = ToolParser.Parse(task.Tools.Select(t => KeyValuePair.Create(t.ItemSpec, t.GetMetadata("VersionCommand"))), diagnostics),
            KeyPlatform = PropertyParser.ParseBool(task.KeyPlatform, "PipelineKeyPlatform", diagnostics) ?? false,
            ContinueOnError = PropertyParser.ParseBool(task.KeepGoing, "PipelineContinueOnError", diagnostics) ?? false,
            ReplayLogs = PropertyParser.ParseBool(task.ReplayLogs, "PipelineReplayLogs", diagnostics) ?? false,
            StrictEnvironment = PropertyParser.ParseBool(task.StrictEnvironment, "PipelineStrictEnvironment", diagnostics) == true
                ? new StrictEnvironment(passThrough)
                : null,
        };
    }

    /// <summary>
    /// The reports a run writes: <c>PipelineSummaryFile</c> (relative to the project folder) and, when GitHub Actions
    /// set <c>GITHUB_STEP_SUMMARY</c> in the build's environment, its file. An empty value asks for nothing.
    /// </summary>
    public static PipelineOptions WithReports(PipelineOptions options, string? summaryFile)
    {
        var stepSummary = Environment.GetEnvironmentVariable(Engine.Reports.GitHubStepSummary.Variable);
        return options with
        {
            SummaryFile = ReportPath(summaryFile, options.ProjectDirectory),
            GitHubStepSummary = ReportPath(stepSummary, options.ProjectDirectory),
        };
    }

    // A path no file can have (a NUL) is kept as given: writing the report then warns (MLP4004), never fails the build.
    private static string? ReportPath(string? value, string projectDirectory) =>
        string.IsNullOrWhiteSpace(value) ? null
        : value.Contains('\0', StringComparison.Ordinal) ? value
        : Path.GetFullPath(value.Trim(), projectDirectory);

    private static Dictionary<string, IReadOnlyList<string>> ReadProjectSources(ITaskItem[] files, string projectDirectory)
    {
        string Normalize(string path)
        {
            ProjectPath.TryNormalize(projectDirectory, path, out var normalized);
            return normalized;
        }

        return files
            .GroupBy(f => Normalize(f.GetMetadata("MLPipelinesProject")), StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g => (IReadOnlyList<string>)g.Select(f => Normalize(f.ItemSpec)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
                StringComparer.Ordinal);
    }

    /// <summary>
    /// Opens the store, turning every way that can fail into one clear error. A store written by a newer engine that
    /// this one may not write is never changed: with <paramref name="runsUncached"/> (RunPipeline, PlanPipeline) the
    /// scratch store stands in for it with one warning; otherwise (the housekeeping targets) it is an error and null.
    /// </summary>
    public static CacheStore? OpenStore(string directory, IPipelineLog log, bool runsUncached)
    {
        try
        {
            var store = CacheStore.Open(directory);
            if (store.NewerSchema is { } newer)
            {
                var advice = $"upgrade MLPipelines.Sdk or point PipelineCacheDir elsewhere.";
                if (runsUncached)
                {
                    log.Warning(new(ErrorCodes.StoreFromNewerVersion, null,
                        $"The pipeline cache at '{directory}' was written by a newer MLPipelines.Sdk (schema {newer}; this build knows {CacheStore.SchemaVersion}). This build runs uncached and leaves the cache unchanged: every step executes, nothing is stored or recorded. To use the cache, {advice}"));
                    return store;
                }

                store.Dispose();
                log.Error(new(ErrorCodes.StoreFromNewerVersion, null,
                    $"The pipeline cache at '{directory}' was written by a newer MLPipelines.Sdk (schema {newer}; this build knows {CacheStore.SchemaVersion}); nothing was read or changed. To manage it, {advice}"));
                return null;
            }

            if (store.WasReset)
            {
                log.Warning(new(ErrorCodes.StoreReset, null,
                    $"The pipeline cache at '{directory}' was written by an older, incompatible version of MLPipelines.Sdk and has been emptied; steps execute once to fill it again."));
            }

            if (store.FileSystem == FileSystemKind.Network)
            {
                log.Message($"The pipeline cache at '{directory}' is on a network file system: it uses SQLite's rollback journal instead of WAL, which needs memory shared on one machine.");
            }

            return store;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException)
        {
            log.Error(new(ErrorCodes.NativeLibraryMissing, null,
                $"The SQLite library of MLPipelines.Sdk could not be loaded ({e.GetBaseException().Message.Split('\n')[0].Trim()}). The package may be damaged: clear it from the NuGet packages folder and restore again."));
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
        {
            log.Error(new(ErrorCodes.StoreUnavailable, null,
                $"The pipeline cache at '{directory}' cannot be opened ({e.Message}). Check that the folder is writable, or point PipelineCacheDir elsewhere; if cache.db is damaged, delete the folder."));
        }

        return null;
    }

    public static ITaskItem ToItem(StepResult result)
    {
        var item = new TaskItem(result.Name);
        item.SetMetadata("Outcome", result.Outcome.ToString());
        item.SetMetadata("Key", result.Key ?? "");
        item.SetMetadata("Reason", result.MissReason ?? "");
        item.SetMetadata("Duration", result.Duration.TotalSeconds.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture));
        return item;
    }

    /// <summary>A <c>PipelineOutput</c> item: the file's absolute path, metadata <c>Step</c>.</summary>
    public static ITaskItem ToItem(StepOutputFile file)
    {
        var item = new TaskItem(file.FullPath);
        item.SetMetadata("Step", file.Step);
        return item;
    }
}
