using System.Globalization;
using System.IO.Hashing;
using System.Text;
using MLPipelines.Engine.Store;

namespace MLPipelines.Engine.Keys;

/// <summary>
/// One hash over everything a step's run gave: what a downstream step's key holds of an upstream step it depends on
/// (<see cref="ComponentKind.UpstreamOutputs"/>). It covers content, not the run, so an upstream that ran again and
/// wrote the same bytes leaves its downstream keys as they were (Bazel's and Turborepo's dependency outputs by
/// content; "early cutoff").
/// </summary>
public static class OutputsDigest
{
    // Only the execute bits of a file's mode: a downstream step may run an upstream output, while the other bits
    // follow the umask of whoever ran the step and would only cost hits.
    private const int ExecuteBits = 0b001_001_001;

    /// <summary>
    /// XxHash128 (32 hex digits) over the files of an entry's manifest, sorted by path (ordinal): each one's path,
    /// content hash and execute bits (0 on Windows, where manifests keep no mode). The same files give the same digest
    /// whether the step executed (the manifest it stored) or was restored (the manifest of its entry).
    /// </summary>
    /// <param name="files">The step's output files, as <see cref="ManifestFile"/>s.</param>
    /// <param name="others">
    /// What else a manifest records beyond regular files, one canonical string each, for instance
    /// <c>link:out/latest -&gt; v2</c> for a symbolic link or <c>dir:model/empty/</c> for an empty directory: folded in
    /// sorted (ordinal) after the files. New kinds of output go here, so a digest of files only stays what it was.
    /// </param>
    public static string Of(IEnumerable<ManifestFile> files, IEnumerable<string>? others = null)
    {
        var hasher = new XxHash128();
        foreach (var file in files.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            // NUL and newline occur in neither project-relative paths nor hex hashes: the encoding is unambiguous.
            hasher.Append(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"file\0{file.Path}\0{file.Hash}\0{file.Mode & ExecuteBits}\n")));
        }

        foreach (var other in (others ?? []).Order(StringComparer.Ordinal))
        {
            hasher.Append(Encoding.UTF8.GetBytes($"other\0{other}\n"));
        }

        return Convert.ToHexStringLower(hasher.GetCurrentHash());
    }

    /// <summary>
    /// The digest of a whole output shape: files, every directory (<c>dir:&lt;path&gt;/</c>) and every symbolic link
    /// (<c>link:&lt;path&gt; -&gt; &lt;target&gt;</c>). Used alike for a stored entry, a restored one and outputs read
    /// from disk, so all three agree.
    /// </summary>
    public static string Of(IEnumerable<ManifestFile> files, IEnumerable<string> directories, IEnumerable<ManifestLink> links) =>
        Of(files, directories.Select(d => "dir:" + d).Concat(links.Select(l => $"link:{l.Path} -> {l.Target}")));

    /// <summary>The digest of an entry's outputs (see <see cref="Of(IEnumerable{ManifestFile}, IEnumerable{string}, IEnumerable{ManifestLink})"/>).</summary>
    public static string Of(CacheEntry entry) => Of(entry.Manifest, entry.Directories, entry.Links);
}
