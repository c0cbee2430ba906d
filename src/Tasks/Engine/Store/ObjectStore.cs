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

    public string PathOf(string hash) => Path.Combine(_root, hash[..2], hash);

    public bool Contains(string hash) => File.Exists(PathOf(hash));

    /// <summary>Copies a file into the store, hashing it on the way. Returns its hash and size.</summary>
    public (string Hash, long Size) Add(string sourcePath)
    {
        var temp = Path.Combine(_tempRoot, Guid.NewGuid().ToString("N"));
        string hash;
        try
        {
            using (var source = new FileStream(sourcePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan))
            using (var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
            {
                hash = ContentHash.OfStream(source, target);
                target.Flush(flushToDisk: true);
            }

            var final = PathOf(hash);
            var existing = new FileInfo(final);
            if (existing.Exists && existing.Length == new FileInfo(temp).Length)
            {
                File.Delete(temp); // Same content already stored, maybe by a concurrent build: keep theirs.
            }
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(final)!);
                File.Move(temp, final, overwrite: true);
            }

            return (hash, new FileInfo(final).Length);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Copies an object next to <paramref name="targetPath"/> under a temporary name, verifying its hash. Returns the
    /// temporary path, or null when the object is missing or its content no longer matches its name.
    /// </summary>
    public string? StageCopy(string hash, string targetPath)
    {
        var source = PathOf(hash);
        if (!File.Exists(source))
        {
            return null;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(targetPath)!);
        var temp = Path.Combine(Path.GetDirectoryName(targetPath)!, $".{Path.GetFileName(targetPath)}.{Guid.NewGuid():N}.mlp-restore");
        try
        {
            string actual;
            using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.SequentialScan))
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
        catch (IOException)
        {
            TryDelete(temp);
            return null;
        }
    }

    /// <summary>Deletes an object (a damaged one, or one no entry refers to any more).</summary>
    public void Remove(string hash) => TryDelete(PathOf(hash));

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
