using System.Diagnostics;

namespace MLPipelines.Engine;

/// <summary>
/// Test-only crash injection: kills this process outright (SIGKILL on Unix: no finally blocks, no flush) at a named
/// point, so end-to-end tests and soaks can prove that a crash exactly there leaves the outputs and the store correct;
/// or (<see cref="Fail"/>) throws an unexpected exception in one step, to prove that the run still ends cleanly.
/// Armed only when <c>MLPIPELINES_TEST_CRASH_POINT</c> names the point AND <c>MLPIPELINES_TEST_CRASH_ARM</c> holds
/// <see cref="ArmPhrase"/>: no user build can hit it by accident.
/// </summary>
public static class CrashPoint
{
    /// <summary>Every object of a restore is staged in the store; nothing is placed among the outputs yet.</summary>
    public const string RestoreStaged = "restore-staged";

    /// <summary>A restore has placed its first file; the rest are still staged.</summary>
    public const string RestorePartial = "restore-partial";

    /// <summary>A step's outputs are in <c>objects/</c>; its entry is not recorded yet.</summary>
    public const string ObjectsStored = "objects-stored";

    /// <summary>An object's content is written under its temporary name, not yet renamed into place.</summary>
    public const string ObjectWrite = "object-write";

    /// <summary>A garbage collection has deleted its first object; the others it chose are still there.</summary>
    public const string CollectPartial = "collect-partial";

    /// <summary>
    /// A step's command exited 0 and wrote its outputs; they are not stored yet. Used with <see cref="Fail"/>: an
    /// unexpected failure in one step while others run.
    /// </summary>
    public const string StepExecuted = "step-executed";

    /// <summary>The value <c>MLPIPELINES_TEST_CRASH_ARM</c> must hold.</summary>
    public const string ArmPhrase = "kill-this-build-for-a-test";

    private static readonly string? Armed =
        Environment.GetEnvironmentVariable("MLPIPELINES_TEST_CRASH_ARM") == ArmPhrase
            ? Environment.GetEnvironmentVariable("MLPIPELINES_TEST_CRASH_POINT")
            : null;

    /// <summary>Kills the process when armed for <paramref name="point"/>; otherwise does nothing.</summary>
    public static void Reach(string point)
    {
        if (Armed is not null && string.Equals(Armed, point, StringComparison.Ordinal))
        {
            using var self = Process.GetCurrentProcess();
            self.Kill();
        }
    }

    /// <summary>
    /// Throws an exception nothing expects (standing for a bug, a busy database, a file system error) when armed for
    /// <c>&lt;point&gt;@&lt;step&gt;</c>, e.g. <c>step-executed@train</c>; otherwise does nothing.
    /// </summary>
    public static void Fail(string point, string step)
    {
        if (Armed is not null && string.Equals(Armed, $"{point}@{step}", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Test failure injected at {point} in step {step}.");
        }
    }
}
