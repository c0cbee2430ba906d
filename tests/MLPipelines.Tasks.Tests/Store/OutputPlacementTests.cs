using System.Runtime.Versioning;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Store;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Store;

/// <summary>
/// The placement rules of <see cref="OutputCapture"/> and <see cref="OutputRestorer"/>: what a step wrote is stored
/// with its shape (empty folders, links), a hit makes the outputs exactly that again, clearing before a run removes
/// only the outputs, and no temporary file ever appears among them. Real files, folders and links; no store database.
/// </summary>
[UnsupportedOSPlatform("windows")] // Symbolic links without privileges, and Unix modes.
public sealed class OutputPlacementTests : IDisposable
{
    private readonly TempDirectory _root = new();
    private readonly string _project;
    private readonly ObjectStore _objects;
    private readonly OutputRestorer _restorer;

    public OutputPlacementTests()
    {
        _project = _root.Subdirectory("project");
        _objects = new ObjectStore(_root.Combine("store/objects"));
        _restorer = new OutputRestorer(_project, _objects, new FileHasher());
    }

    public void Dispose() => _root.Dispose();

    private string P(string relative) => _root.Combine("project/" + relative);

    private void Write(string relative, string content) => _root.Write("project/" + relative, content);

    private CacheEntry Capture(params string[] outputs)
    {
        var captured = OutputCapture.Capture(_project, outputs, _objects);
        return new CacheEntry
        {
            Pipeline = "p",
            Step = "s",
            Key = "k",
            CreatedAt = DateTimeOffset.UnixEpoch,
            Components = [],
            Manifest = captured.Files,
            Directories = captured.Directories,
            Links = captured.Links,
        };
    }

    /// <summary>Every path below the project, folders with a trailing '/', links as "path -> target".</summary>
    private List<string> Tree()
    {
        return OutputTree.Walk(_project, "").Skip(1)
            .Select(n => n.Kind == OutputNodeKind.Link ? $"{n.Path} -> {new FileInfo(n.FullPath).LinkTarget}" : n.Path)
            .ToList();
    }

    [Fact]
    public void CaptureRecordsFilesEveryFolderAndLinksAsLinks()
    {
        Write("model/weights.bin", "w");
        Directory.CreateDirectory(P("model/empty/deeper"));
        File.CreateSymbolicLink(P("model/latest"), "weights.bin");

        var entry = Capture("model/");

        Assert.Equal(["model/weights.bin"], entry.Manifest.Select(f => f.Path));
        Assert.Equal(["model/", "model/empty/", "model/empty/deeper/"], entry.Directories);
        Assert.Equal([new ManifestLink("model/latest", "weights.bin")], entry.Links);
        Assert.Equal(ContentHash.OfText("w"), entry.Manifest[0].Hash);
    }

    [Fact]
    public void AnAbsoluteLinkInsideTheProjectIsStoredRelativeToItsFolder()
    {
        Write("model/weights.bin", "w");
        File.CreateSymbolicLink(P("model/latest"), P("model/weights.bin"));

        var entry = Capture("model/");

        Assert.Equal([new ManifestLink("model/latest", "weights.bin")], entry.Links);
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("../../outside.txt")]
    public void ALinkWhoseTargetLeavesTheProjectCannotBeStored(string target)
    {
        Directory.CreateDirectory(P("model"));
        File.CreateSymbolicLink(P("model/escape"), target);

        var error = Assert.Throws<UncacheableOutputException>(() => Capture("model/"));

        Assert.Equal("model/escape", error.Path);
    }

    [Fact]
    public void CaptureMasksModesToPermissionBits()
    {
        Write("tool.sh", "#!/bin/sh");
        File.SetUnixFileMode(P("tool.sh"), (UnixFileMode)Convert.ToInt32("4755", 8));

        var entry = Capture("tool.sh");

        Assert.Equal(Convert.ToInt32("755", 8), entry.Manifest[0].Mode);
    }

    [Fact]
    public void RestoreIntoNothingRecreatesFilesEmptyFoldersAndLinks()
    {
        Write("model/weights.bin", "w");
        Write("model/sub/config.json", "{}");
        Directory.CreateDirectory(P("model/empty"));
        File.CreateSymbolicLink(P("model/latest"), "weights.bin");
        var entry = Capture("model/");
        Directory.Delete(P("model"), recursive: true);

        var outcome = _restorer.Restore(entry, ["model/"]);

        Assert.True(outcome.Succeeded);
        Assert.Equal(3, outcome.Placed);
        Assert.Equal(["model/", "model/empty/", "model/latest -> weights.bin", "model/sub/", "model/sub/config.json", "model/weights.bin"], Tree());
        Assert.Equal("w", File.ReadAllText(P("model/latest")));
    }

    [Fact]
    public void FilesTheEntryDoesNotHoldAreRemovedFromADeclaredFolder()
    {
        Write("model/a.bin", "a");
        var entry = Capture("model/");
        Write("model/b.bin", "b");
        Write("model/old/c.bin", "c");

        var outcome = _restorer.Restore(entry, ["model/"]);

        Assert.True(outcome.Succeeded);
        Assert.Equal(0, outcome.Placed);
        Assert.Equal(2, outcome.Removed);
        Assert.Equal(["model/", "model/a.bin"], Tree());
    }

    [Fact]
    public void AnEditedFileIsReplacedAndOneInPlaceIsNotRewritten()
    {
        Write("out/a.txt", "a");
        Write("out/b.txt", "b");
        var entry = Capture("out/");
        Write("out/a.txt", "A");
        var untouched = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(P("out/b.txt"), untouched);

        var outcome = _restorer.Restore(entry, ["out/"]);

        Assert.Equal(1, outcome.Placed);
        Assert.Equal("a", File.ReadAllText(P("out/a.txt")));
        Assert.Equal(untouched, File.GetLastWriteTimeUtc(P("out/b.txt")));
    }

    [Fact]
    public void AFileWhereTheEntryHasAFolderIsReplacedAndTheReverse()
    {
        Write("out/x/inner.txt", "inner");
        Write("out/y", "file y");
        var entry = Capture("out/");
        Directory.Delete(P("out/x"), recursive: true);
        Write("out/x", "now a file");
        File.Delete(P("out/y"));
        Write("out/y/z.txt", "now a folder");

        var outcome = _restorer.Restore(entry, ["out/"]);

        Assert.True(outcome.Succeeded);
        Assert.Equal(["out/", "out/x/", "out/x/inner.txt", "out/y"], Tree());
        Assert.Equal("file y", File.ReadAllText(P("out/y")));
    }

    [Fact]
    public void ADeclaredFileOutputThatBecameAFolderIsReplaced()
    {
        Write("report.txt", "report");
        var entry = Capture("report.txt");
        File.Delete(P("report.txt"));
        Write("report.txt/inside", "x");

        Assert.True(_restorer.Restore(entry, ["report.txt"]).Succeeded);

        Assert.Equal("report", File.ReadAllText(P("report.txt")));
    }

    [Fact]
    public void ARetargetedLinkIsRestoredAndALinkOutOfTheProjectIsRemovedWithoutTouchingItsTarget()
    {
        Write("out/a.bin", "a");
        Write("out/b.bin", "b");
        File.CreateSymbolicLink(P("out/latest"), "a.bin");
        var entry = Capture("out/");
        File.Delete(P("out/latest"));
        File.CreateSymbolicLink(P("out/latest"), "b.bin");
        var outside = _root.Subdirectory("outside");
        _root.Write("outside/precious.txt", "keep");
        File.CreateSymbolicLink(P("out/escape"), outside);

        var outcome = _restorer.Restore(entry, ["out/"]);

        Assert.True(outcome.Succeeded);
        Assert.Equal("a.bin", new FileInfo(P("out/latest")).LinkTarget);
        Assert.False(File.Exists(P("out/escape")) || Directory.Exists(P("out/escape")));
        Assert.Equal("keep", _root.Read("outside/precious.txt"));
    }

    [Fact]
    public void AMissingObjectIsDamageFoundBeforeAnyOutputIsTouched()
    {
        Write("out/a.txt", "a");
        Write("out/b.txt", "b");
        var entry = Capture("out/");
        _objects.Remove(entry.Manifest.Single(f => f.Path == "out/b.txt").Hash);
        Write("out/a.txt", "edited");
        Write("out/extra.txt", "extra");
        File.Delete(P("out/b.txt"));

        var outcome = _restorer.Restore(entry, ["out/"]);

        Assert.NotNull(outcome.Damage);
        Assert.Equal(entry.Manifest.Single(f => f.Path == "out/b.txt").Hash, outcome.DamagedObject);
        Assert.Equal("edited", File.ReadAllText(P("out/a.txt")));
        Assert.True(File.Exists(P("out/extra.txt")));
    }

    [Fact]
    public void AnAlteredObjectIsDamage()
    {
        Write("out.txt", "good");
        var entry = Capture("out.txt");
        File.WriteAllText(_objects.PathOf(entry.Manifest[0].Hash), "evil");
        File.Delete(P("out.txt"));

        var outcome = _restorer.Restore(entry, ["out.txt"]);

        Assert.NotNull(outcome.Damage);
        Assert.False(File.Exists(P("out.txt")));
    }

    [Fact]
    public void NothingIsStagedAmongTheOutputsAndTheStagingFolderIsGoneAfterwards()
    {
        Write("out/a.txt", "a");
        var entry = Capture("out/");
        Directory.Delete(P("out"), recursive: true);

        _restorer.Restore(entry, ["out/"]);

        Assert.Equal(["out/", "out/a.txt"], Tree());
        Assert.Empty(Directory.EnumerateFiles(_root.Combine("store/staging"), "*", SearchOption.AllDirectories));
        _restorer.DeleteStaging();
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root.Combine("store/staging")));
    }

    [Fact]
    public void WhenEverythingIsInPlaceNothingIsWrittenAndTheObjectsAreNotAskedFor()
    {
        Write("out/a.txt", "a");
        var entry = Capture("out/");
        var asked = false;

        var outcome = _restorer.Restore(entry, ["out/"], () => asked = true);

        Assert.True(outcome.Succeeded);
        Assert.False(asked);
        Assert.Equal(0, outcome.Placed + outcome.Removed);
    }

    [Fact]
    public void ARefusedLeaseLeavesTheOutputsAsTheyWere()
    {
        Write("out/a.txt", "a");
        var entry = Capture("out/");
        Write("out/extra.txt", "extra");

        var outcome = _restorer.Restore(entry, ["out/"], () => false);

        Assert.Equal(OutputRestorer.EntryGone, outcome.Failure);
        Assert.True(File.Exists(P("out/extra.txt")));
    }

    [Fact]
    public void ClearDeletesFilesLinksAndWholeFoldersWithoutFollowingLinks()
    {
        Write("out/a.txt", "a");
        Write("out/sub/b.txt", "b");
        Write("single.txt", "s");
        var outside = _root.Subdirectory("outside");
        _root.Write("outside/precious.txt", "keep");
        File.CreateSymbolicLink(P("out/escape"), outside);
        File.CreateSymbolicLink(P("linked.txt"), _root.Combine("outside/precious.txt"));
        Write("unrelated.txt", "mine");

        _restorer.Clear(["out/", "single.txt", "linked.txt", "missing.txt"]);

        Assert.Equal(["unrelated.txt"], Tree());
        Assert.Equal("keep", _root.Read("outside/precious.txt"));
    }

    [Fact]
    public void TheStoreInsideADeclaredOutputFolderIsNeitherClearedCapturedNorRemoved()
    {
        var restorer = new OutputRestorer(_project, _objects, new FileHasher(), excluded: "out/cache/");
        Write("out/a.txt", "a");
        Write("out/cache/cache.db", "db");
        var captured = OutputCapture.Capture(_project, ["out/"], _objects, excluded: "out/cache/");
        Assert.DoesNotContain(captured.Files, f => f.Path.StartsWith("out/cache", StringComparison.Ordinal));

        restorer.Clear(["out/"]);

        Assert.Equal("db", File.ReadAllText(P("out/cache/cache.db")));
        Assert.False(File.Exists(P("out/a.txt")));
    }

    [Fact]
    public void SweepRemovesStagingOfDeadBuildsAndKeepsThatOfLiveOnes()
    {
        var staging = _root.Combine("store/staging");
        var dead = Directory.CreateDirectory(Path.Combine(staging, "999999999-" + new string('a', 32))).FullName;
        File.WriteAllText(Path.Combine(dead, "half"), "x");
        using var live = System.Diagnostics.Process.Start("sleep", "30");
        var alive = Directory.CreateDirectory(Path.Combine(staging, $"{live.Id}-" + new string('d', 32))).FullName;
        var userFolder = Directory.CreateDirectory(Path.Combine(staging, "not-ours")).FullName;
        try
        {
            OutputRestorer.SweepStaging(_objects);

            Assert.False(Directory.Exists(dead));
            Assert.True(Directory.Exists(alive));
            Assert.True(Directory.Exists(userFolder));
        }
        finally
        {
            live.Kill();
        }
    }

    /// <summary>
    /// Hostile manifest values, one per row: kind (file, dir, link), path, and a value (a file's object hash, or a
    /// link's target; empty: the good hash). Each is a damaged entry (MLP3002: the step executes and the entry is
    /// replaced) with nothing written or deleted anywhere, and no object blamed.
    /// </summary>
    public static TheoryData<string, string, string> HostileRows => new()
    {
        // Paths that leave the project or the outputs.
        { "file", "../../escaped.txt", "" },
        { "file", "/tmp/absolute.txt", "" },
        { "file", "out/../../escaped.txt", "" },
        { "file", "elsewhere.txt", "" },
        { "file", "out", "" },
        // Paths that are not plain: '.' or empty segments, backslashes, a NUL, a trailing '/', nothing at all.
        { "file", "out/./a.txt", "" },
        { "file", "out//a.txt", "" },
        { "file", "out\\a.txt", "" },
        { "file", "out\\..\\..\\escaped.txt", "" },
        { "file", "out/a\0.txt", "" },
        { "file", "out/a.txt/", "" },
        { "file", "", "" },
        // Object hashes that are not 32 lowercase hex digits (one would name a file outside the store).
        { "file", "out/a.txt", "../../../victim" },
        { "file", "out/a.txt", "../../../../../../../../victim01" },
        { "file", "out/a.txt", "ABCDEF0123456789ABCDEF0123456789" },
        { "file", "out/a.txt", "0123456789abcdef" },
        { "file", "out/a.txt", "0123456789abcdef0123456789abcdef0" },
        { "file", "out/a.txt", "0123456789abcdefghijklmnopqrstuv" },
        { "file", "out/a.txt", " " },
        // Folders.
        { "dir", "../outside/", "" },
        { "dir", "/tmp/", "" },
        { "dir", "out/sub", "" },
        { "dir", "out//sub/", "" },
        { "dir", "out\\sub/", "" },
        { "dir", "out/sub\0/", "" },
        { "dir", "/", "" },
        // Links: where they are, and where they point.
        { "link", "out/escape", "../../.." },
        { "link", "out/escape", "/etc" },
        { "link", "out/escape", "a/../../.." },
        { "link", "out/escape", "" },
        { "link", "../escape", "out/a.txt" },
        { "link", "/tmp/escape", "a.txt" },
        { "link", "out\\escape", "a.txt" },
        { "link", "out/esc\0ape", "a.txt" },
    };

    [Theory]
    [MemberData(nameof(HostileRows))]
    public void AManifestRowThatLeavesTheOutputsIsDamageAndNothingIsWritten(string kind, string path, string value)
    {
        Write("out/a.txt", "a");
        var good = Capture("out/");
        var hash = value.Length > 0 ? value : good.Manifest[0].Hash;
        var entry = kind switch
        {
            "file" => good with { Manifest = [new ManifestFile(path, hash, 1, Convert.ToInt32("4777", 8))] },
            "dir" => good with { Directories = [.. good.Directories, path] },
            _ => good with { Links = [new ManifestLink(path, value)] },
        };

        AssertDamageAndNothingTouched(entry);
    }

    /// <summary>Rows that are each fine alone but not together: one path twice, or a path below a file or link of the entry.</summary>
    public static TheoryData<string> HostileShapes => new()
    {
        "a file twice", "a file that is also a folder", "a file that is also a link", "a folder that is also a link",
        "a folder twice", "a file below a file", "a file below a link", "a folder below a file",
    };

    [Theory]
    [MemberData(nameof(HostileShapes))]
    public void AManifestWhoseRowsContradictEachOtherIsDamageAndNothingIsWritten(string shape)
    {
        Write("out/a.txt", "a");
        var good = Capture("out/");
        var file = good.Manifest[0];
        var entry = shape switch
        {
            "a file twice" => good with { Manifest = [file, file with { Mode = 0 }] },
            "a file that is also a folder" => good with { Directories = [.. good.Directories, "out/a.txt/"] },
            "a file that is also a link" => good with { Links = [new ManifestLink("out/a.txt", "b.txt")] },
            "a folder that is also a link" => good with { Directories = [.. good.Directories, "out/sub/"], Links = [new ManifestLink("out/sub", "a.txt")] },
            "a folder twice" => good with { Directories = [.. good.Directories, .. good.Directories] },
            "a file below a file" => good with { Manifest = [file, file with { Path = "out/a.txt/b.txt" }] },
            "a file below a link" => good with { Manifest = [file, file with { Path = "out/up/a.txt" }], Links = [new ManifestLink("out/up", "..")] },
            _ => good with { Directories = [.. good.Directories, "out/a.txt/sub/"] },
        };

        AssertDamageAndNothingTouched(entry);
    }

    /// <summary>A mode the store says (setuid, sticky, bits beyond them, negative) is masked to the permission bits.</summary>
    [Theory]
    [InlineData(0b100_111_111_111)] // 04777: setuid
    [InlineData(0b111_111_101_101)] // 07755: setuid, setgid, sticky
    [InlineData(0b001_111_111_111)] // 01777: sticky
    [InlineData(int.MaxValue)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void AHostileModeIsMaskedToPermissionBits(int mode)
    {
        Write("out/a.txt", "a");
        var good = Capture("out/");
        var entry = good with { Manifest = [good.Manifest[0] with { Mode = mode }] };
        Directory.Delete(P("out"), recursive: true);

        var outcome = _restorer.Restore(entry, ["out/"]);

        Assert.True(outcome.Succeeded, outcome.Damage ?? outcome.Failure);
        Assert.Equal((UnixFileMode)(mode & Convert.ToInt32("777", 8)), File.GetUnixFileMode(P("out/a.txt")));
    }

    /// <summary>
    /// Restores <paramref name="entry"/> into a project whose outputs are gone, beside a file outside the project:
    /// the entry must be damage, no object blamed (none is at fault), and no path anywhere added, changed or removed.
    /// </summary>
    private void AssertDamageAndNothingTouched(CacheEntry entry)
    {
        Directory.Delete(P("out"), recursive: true);
        var sentinel = _root.Write("outside/victim.txt", "keep");
        var before = Snapshot();

        var outcome = _restorer.Restore(entry, ["out/"]);

        Assert.NotNull(outcome.Damage);
        Assert.Null(outcome.DamagedObject);
        Assert.Equal("keep", File.ReadAllText(sentinel));
        Assert.Equal(before, Snapshot());
    }

    /// <summary>Every path below the temp root (project, store and outside), with its type and size: what a restore could touch.</summary>
    private List<string> Snapshot() =>
        Directory.EnumerateFileSystemEntries(_root.Path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
            .Select(p => File.Exists(p) ? $"{p} {new FileInfo(p).Length}" : p)
            .Order(StringComparer.Ordinal)
            .ToList();

    [Fact]
    public void ASweepNeverFollowsAStagingFolderThatIsALink()
    {
        var outside = _root.Subdirectory("outside");
        var victim = Directory.CreateDirectory(Path.Combine(outside, "999999999-" + new string('a', 32))).FullName;
        Directory.CreateDirectory(_root.Combine("store"));
        File.CreateSymbolicLink(_root.Combine("store/staging"), outside);

        OutputRestorer.SweepStaging(_objects);

        Assert.True(Directory.Exists(victim));
    }

    [Fact]
    public void ALinkChainThatLeavesTheProjectCannotBeStored()
    {
        Write("out/f.txt", "f");
        File.CreateSymbolicLink(P("out/sub"), "..");
        File.CreateSymbolicLink(P("out/l"), "sub/..");

        var error = Assert.Throws<UncacheableOutputException>(() => Capture("out/"));

        Assert.Equal("out/l", error.Path);
    }

    [Fact]
    public void ATamperedEntryWithALinkChainOutOfTheProjectIsDamageAndTheLinkIsGone()
    {
        Write("out/f.txt", "f");
        var good = Capture("out/");
        var entry = good with { Links = [new ManifestLink("out/sub", ".."), new ManifestLink("out/l", "sub/..")] };
        Directory.Delete(P("out"), recursive: true);

        var outcome = _restorer.Restore(entry, ["out/"]);

        Assert.NotNull(outcome.Damage);
        Assert.False(File.Exists(P("out/l")) || Directory.Exists(P("out/l")));
    }

    /// <summary>
    /// Each target alone stays inside (out/up is the project, up/../../victim reads as victim), but out/esc climbs
    /// from out/up's target: Validate resolves through the entry's own links and refuses it before anything is placed.
    /// </summary>
    [Theory]
    [InlineData("out/up", "..", "out/esc", "up/../../victim")]
    [InlineData("out/up", "..", "out/esc", "up/up/../../x")]
    [InlineData("out/a", "b", "out/b", "a")] // A loop.
    public void ALinkChainThroughTheEntrysOwnLinksOutOfTheProjectIsRefusedByValidateAndNothingIsWritten(string first, string firstTarget, string second, string secondTarget)
    {
        Write("out/f.txt", "f");
        var good = Capture("out/");
        var entry = good with { Links = [new ManifestLink(first, firstTarget), new ManifestLink(second, secondTarget)] };

        Assert.Contains("leads out of the project", _restorer.Validate(entry, ["out/"]), StringComparison.Ordinal);
        AssertDamageAndNothingTouched(entry);
    }

    [Fact]
    public void AThreeLinkChainOutOfTheProjectIsRefusedByValidate()
    {
        Write("out/f.txt", "f");
        var good = Capture("out/");
        // out/up2 is up/out/up: the project again; out/esc reads as out/x but climbs from the project to its parent.
        var entry = good with { Links = [new ManifestLink("out/up", ".."), new ManifestLink("out/up2", "up/out/up"), new ManifestLink("out/esc", "up2/../x")] };

        Assert.Contains("'out/esc'", _restorer.Validate(entry, ["out/"]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("out/up", "..", "out/l", "up/out/f.txt")]
    [InlineData("out/up", "..", "out/l", "up/out")]
    [InlineData("out/sub", "f.txt", "out/l", "sub")]
    [InlineData("out/l", "../../project/out/f.txt", "out/m", "l")] // Out and back in by the project folder's name.
    public void ALinkChainThatStaysInsideIsValid(string first, string firstTarget, string second, string secondTarget)
    {
        Write("out/f.txt", "f");
        var good = Capture("out/");
        var entry = good with { Links = [new ManifestLink(first, firstTarget), new ManifestLink(second, secondTarget)] };

        Assert.Null(_restorer.Validate(entry, ["out/"]));
    }

    [Fact]
    public void AFileBelowALinkOfTheSameEntryIsDamageAndNothingIsWrittenThroughTheLink()
    {
        Write("out/f.txt", "f");
        var good = Capture("out/");
        var entry = good with
        {
            Links = [new ManifestLink("out/up", "..")],
            Manifest = [.. good.Manifest, good.Manifest[0] with { Path = "out/up/pipeline.proj" }],
        };
        Write("pipeline.proj", "<Project />");
        Directory.Delete(P("out"), recursive: true);

        var outcome = _restorer.Restore(entry, ["out/"]);

        Assert.NotNull(outcome.Damage);
        Assert.Equal("<Project />", File.ReadAllText(P("pipeline.proj")));
    }

    [Fact]
    public void APipeAmongTheOutputsCannotBeStoredAndDoesNotHang()
    {
        Directory.CreateDirectory(P("out"));
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", P("out/pipe")))
        {
            mkfifo.WaitForExit();
        }

        var error = Assert.Throws<UncacheableOutputException>(() => Capture("out/"));

        Assert.Equal("out/pipe", error.Path);
    }
}
