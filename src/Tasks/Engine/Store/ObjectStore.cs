using MLPipelines.Engine.Hashing;

namespace MLPipelines.Engine.Store;

/// <summary>
/// <c>objects/</c>: each distinct file content once, named by its hash (<c>objects/ab/abcdef…</c>). Objects are
/// written under a temporary name and renamed into place, so a crash or a second build never sees half an object.
/// </summary>
public sealed class ObjectStore
{
    private readonly string _root;
    private readonly string _tempRoot;

    public ObjectStore(string root)
    {
        _root = root;
        _tempRoot = Path.Combine(root, "tmp");
        Directory.CreateDirectory(_tempRoot);
    }

    public string Root => _root;

    /// <summary>
    /// Where the object of <paramref name="hash"/> lives. Only a well-formed hash (32 lowercase hex digits) names an
    /// object: anything else read from a store row could climb out of <c>objects/</c> (<c>../../x</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The hash is not 32 lowercase hex digits.</exception>
    public string PathOf(string hash) =>
        IsValidHash(hash) ? Path.Combine(_root, hash[..2], hash) : throw new ArgumentException($"'{hash}' is not an object hash.", nameof(hash));

    /// <summary>True for the form every object name has: 32 lowercase hex digits (XxHash128).</summary>
    public static bool IsValidHash(string hash) => hash.Length == 32 && hash.All(char.IsAsciiHexDigitLower);

    public bool Contains(string hash) => IsValidHash(hash) && File.Exists(PathOf(hash));

    /// <summary>
    /// Copies a file into the store, hashing it on the way. Returns its hash and size. The object is never more
    /// readable than the file it came from (<see cref="ObjectMode"/>): when the object is already stored with read
    /// bits this source lacks, they are taken away, so an object is as closed as the most closed file that stored it.
    /// </summary>
    public (string Hash, long Size) Add(string sourcePath)
    {
        var temp = Path.Combine(_tempRoot, Guid.NewGuid().ToString("N"));
        string hash;
        try
        {
            using (var source = new FileStream(sourcePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan))
            using (var target = new FileStream(temp, TempOptions(source)))
            {
                // No fsync: it cost a journal commit per object (4 to 13 ms of each executed step's slot on a busy
                // machine), and it bought nothing the store relies on. The entry's commit is not synced either
                // (synchronous = NORMAL), and an object cut short by a machine crash is caught where every object is
                // checked, against its name before anything is restored: damage, so the step executes instead.
                hash = ContentHash.OfStream(source, target);
            }

            CrashPoint.Reach(CrashPoint.ObjectWrite);
            var final = Place(temp, hash);
            return (hash, new FileInfo(final).Length);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Stores <paramref name="content"/> as an object (a step's kept log): readable by the owner only, since a log can
    /// hold anything a step printed. Returns its hash and size.
    /// </summary>
    /// <exception cref="IOException">The store cannot be written.</exception>
    public (string Hash, long Size) Add(byte[] content)
    {
        var temp = Path.Combine(_tempRoot, Guid.NewGuid().ToString("N"));
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = ObjectMode(UnixFileMode.None);
            }

            string hash;
            using (var source = new MemoryStream(content, writable: false))
            using (var target = new FileStream(temp, options))
            {
                hash = ContentHash.OfStream(source, target);
            }

            Place(temp, hash);
            return (hash, content.Length);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// The content of the object <paramref name="hash"/>, checked against its name; null when it is missing, damaged
    /// or larger than <paramref name="maxBytes"/> (a kept log is read whole, so never a big output's object).
    /// </summary>
    public byte[]? ReadVerified(string hash, long maxBytes)
    {
        if (!IsValidHash(hash))
        {
            return null;
        }

        try
        {
            using var input = new FileStream(PathOf(hash), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.SequentialScan);
            if (input.Length > maxBytes)
            {
                return null;
            }

            using var copy = new MemoryStream((int)input.Length);
            return ContentHash.OfStream(input, copy) == hash ? copy.ToArray() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Stores an object read from an untrusted stream (a remote cache's <c>/cas/</c>), streamed to a temporary file
    /// while it is hashed; it takes its name only when the content's XxHash128 is <paramref name="hash"/> and its
    /// length <paramref name="size"/>. The stream is not read beyond <paramref name="size"/> bytes. The object gets
    /// <see cref="ObjectMode"/> of <paramref name="fileMode"/> (the manifest's mode of a file with this content).
    /// False, with nothing stored, when the content does not match.
    /// </summary>
    /// <param name="sha256">
    /// With it (a signed entry's digest of the object, 64 hex digits), the content's SHA-256, computed in the same
    /// pass, must be it too: XxHash128 names objects but is no defence against a crafted collision.
    /// </param>
    /// <exception cref="IOException">The store cannot be written, or the stream failed.</exception>
    public async Task<bool> AddVerifiedAsync(Stream source, string hash, long size, UnixFileMode fileMode, CancellationToken cancellationToken, string? sha256 = null)
    {
        if (!IsValidHash(hash) || size < 0)
        {
            return false;
        }

        byte[]? expectedSha256 = null;
        if (sha256 is not null)
        {
            if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigit))
            {
                return false;
            }

            expectedSha256 = Convert.FromHexString(sha256);
        }

        var temp = Path.Combine(_tempRoot, Guid.NewGuid().ToString("N"));
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = ObjectMode(fileMode);
            }

            string? actual;
            using var digest = expectedSha256 is null ? null : System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            var target = new FileStream(temp, options);
            await using (target.ConfigureAwait(false))
            {
                actual = await ContentHash.OfStreamAsync(source, target, size, cancellationToken, digest).ConfigureAwait(false);
                target.Flush(flushToDisk: true);
            }

            if (actual != hash || new FileInfo(temp).Length != size ||
                (expectedSha256 is not null && !System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(digest!.GetHashAndReset(), expectedSha256)))
            {
                TryDelete(temp);
                return false;
            }

            Place(temp, hash);
            return true;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Moves a verified temporary copy into place as the object <paramref name="hash"/> (or freshens an equal one already there); returns the object's path.</summary>
    private string Place(string temp, string hash)
    {
        var final = PathOf(hash);
        if (Freshen(final, new FileInfo(temp).Length))
        {
            // Same content already stored, maybe by a concurrent build: keep theirs, at most as readable as ours.
            if (!NarrowExisting(final, temp))
            {
                File.Delete(temp);
            }
        }
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            File.Move(temp, final, overwrite: true);
        }

        return final;
    }

    /// <summary>
    /// git's "freshen": an object about to be named by a new entry gets a new modification time, so a concurrent
    /// collection treats it as young (<see cref="CacheStore.ObjectGrace"/>) until the entry is recorded. False when
    /// there is no such object of that size, or its time cannot be set (another user's file): the caller then renames
    /// its own copy into place, which is fresh.
    /// </summary>
    private static bool Freshen(string path, long length)
    {
        try
        {
            var existing = new FileInfo(path);
            if (!existing.Exists || existing.Length != length)
            {
                return false;
            }

            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // Collected since we looked (FileNotFoundException is an IOException), or not ours to touch.
        }
    }

    /// <summary>
    /// Deletes an unreferenced object for garbage collection, unless it was freshened after
    /// <paramref name="youngSince"/>. The object is first renamed into <c>tmp/</c> and its time read again there: a
    /// build that freshened it before the rename is seen (the object is put back), and one that tries after finds it
    /// gone and writes its own copy. Checking the time and then deleting by name would leave a window between the two.
    /// True when the object was deleted.
    /// </summary>
    public bool Collect(string path, DateTime youngSince)
    {
        var aside = Path.Combine(_tempRoot, Guid.NewGuid().ToString("N") + ".collected");
        try
        {
            File.Move(path, aside);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // Gone already (another collection) or not ours to delete.
        }

        if (File.GetLastWriteTimeUtc(aside) > youngSince)
        {
            try
            {
                File.Move(aside, path); // Freshened by a build that is recording it: it stays.
            }
            catch (IOException)
            {
                TryDelete(aside); // That build has already written its own copy back.
            }

            return false;
        }

        TryDelete(aside);
        return !File.Exists(aside);
    }

    /// <summary>
    /// The Unix mode of an object stored from a file of mode <paramref name="sourceMode"/>: read and write for the
    /// owner (the store's own reads and deletes), read for group and others only where the source grants it, never
    /// write or execute for them (execute bits live in the manifest; restored files get the manifest's mode). So a
    /// <c>0600</c> credentials file gives a <c>0600</c> object, not a <c>0644</c> one. The umask applies on top.
    /// </summary>
    public static UnixFileMode ObjectMode(UnixFileMode sourceMode) =>
        UnixFileMode.UserRead | UnixFileMode.UserWrite | (sourceMode & SharedReadBits);

    private const UnixFileMode SharedReadBits = UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private static FileStreamOptions TempOptions(FileStream source)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = ObjectMode(File.GetUnixFileMode(source.SafeFileHandle));
        }

        return options;
    }

    /// <summary>
    /// Takes from the stored object <paramref name="final"/> the group and other read bits that the new copy
    /// <paramref name="temp"/> (made with <see cref="ObjectMode"/> of its source) lacks. Where the object belongs to
    /// another user of a shared store, so its mode cannot be changed, the new copy, given the narrower mode, replaces
    /// it by rename (same content: the hash says so). True when <paramref name="temp"/> was used up that way.
    /// </summary>
    private static bool NarrowExisting(string final, string temp)
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }

        var stored = File.GetUnixFileMode(final);
        var wanted = File.GetUnixFileMode(temp);
        var extra = stored & SharedReadBits & ~wanted;
        if (extra == 0)
        {
            return false;
        }

        try
        {
            File.SetUnixFileMode(final, stored & ~extra);
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            File.SetUnixFileMode(temp, wanted & (stored | ~SharedReadBits));
            File.Move(temp, final, overwrite: true);
            return true;
        }
    }

    /// <summary>
    /// Copies an object into <paramref name="stagingDirectory"/> (a folder inside the store, created if needed) under a
    /// new name, verifying its hash on the way. Returns the copy's path, or null when the object is missing or its
    /// content no longer matches its name (the copy is then deleted).
    /// </summary>
    /// <exception cref="IOException">The staging folder cannot be written (disk full, permissions).</exception>
    public string? StageCopy(string hash, string stagingDirectory)
    {
        if (!IsValidHash(hash))
        {
            return null;
        }

        var source = PathOf(hash);
        Directory.CreateDirectory(stagingDirectory);
        var temp = Path.Combine(stagingDirectory, Guid.NewGuid().ToString("N"));
        FileStream input;
        try
        {
            input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        string actual;
        using (input)
        using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
        {
            actual = ContentHash.OfStream(input, output);
        }

        if (actual == hash)
        {
            return temp;
        }

        TryDelete(temp);
        return null;
    }

    /// <summary>
    /// Whether the object <paramref name="hash"/> is there and its content still matches its name: the check
    /// <see cref="StageCopy"/> makes, without a copy (for a dry run that must foresee the restore's verdict).
    /// </summary>
    public bool Verify(string hash)
    {
        if (!IsValidHash(hash))
        {
            return false;
        }

        try
        {
            using var input = new FileStream(PathOf(hash), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
            return ContentHash.OfStream(input, null) == hash;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Deletes an object (a damaged one, or one no entry refers to any more).</summary>
    public void Remove(string hash)
    {
        if (IsValidHash(hash))
        {
            TryDelete(PathOf(hash));
        }
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
