using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MLPipelines.Engine.Keys;
using MLPipelines.Engine.Store;

namespace MLPipelines.Engine.Remote;

/// <summary>
/// What <c>{base}/ac/{key}</c> holds (Bazel's action cache entry, in JSON): the entry itself as a JSON string, so the
/// signature covers its exact bytes whatever a server or proxy does to whitespace around it, the key it answers, and
/// the signature. <see cref="Format"/> 1 is the only one; an entry of another format is refused, never guessed at.
/// </summary>
internal sealed record RemoteEntryDocument(int Format, string Key, string Entry, string? Signature = null);

/// <summary>
/// The shared part of a <see cref="CacheEntry"/>: no row id, run id or key components. The components are the
/// downloader's own (the key it asked for is their hash), so nothing a server says about them is ever stored.
/// <see cref="Sha256"/>, in signed entries only (and required there): each object's SHA-256 by its XxHash128 name, so
/// the signature covers the objects' content with a cryptographic hash and not only with their non-cryptographic names.
/// <see cref="LogHash"/> and <see cref="LogSize"/>: the step's kept log (<see cref="CacheEntry.LogHash"/>), an object
/// under <c>/cas/</c> like the outputs', in <see cref="Sha256"/> too when signed; absent in entries of engines before
/// issue 11, and ignored by them (unknown JSON members are skipped), so the format stays 1.
/// </summary>
internal sealed record RemoteEntryBody(
    string Pipeline,
    string Step,
    string Key,
    long CreatedAtUnixMs,
    long DurationMs,
    List<ManifestFile> Manifest,
    List<string> Directories,
    List<ManifestLink> Links,
    Dictionary<string, string>? Sha256 = null,
    string? LogHash = null,
    long LogSize = 0);

// As StoreJson: a server is untrusted input, so a null or missing field fails to read instead of reaching the restore.
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(RemoteEntryDocument))]
[JsonSerializable(typeof(RemoteEntryBody))]
internal sealed partial class RemoteJson : JsonSerializerContext;

/// <summary>
/// Turns local entries into the bytes uploaded to <c>/ac/</c> and back, signing and checking signatures. With a
/// signing key, the signature is HMAC-SHA256 over a domain label, the key and the exact entry bytes (the idea of
/// Turborepo's remote cache signatures, <c>x-artifact-tag</c>); without one entries travel unsigned.
/// </summary>
public static class RemoteEntry
{
    public const int Format = 1;

    /// <summary>
    /// The bytes to PUT at <c>/ac/{entry.Key}</c>: a UTF-8 JSON document (<see cref="RemoteEntryDocument"/>). With a
    /// <paramref name="signingKey"/>, the signed entry carries the SHA-256 of every object, read from
    /// <paramref name="objects"/> (just written or uploaded, so from the page cache).
    /// </summary>
    /// <exception cref="IOException">An object is gone from <paramref name="objects"/> (collected meanwhile).</exception>
    public static byte[] Serialize(CacheEntry entry, byte[]? signingKey, ObjectStore? objects = null)
    {
        Dictionary<string, string>? digests = null;
        if (signingKey is not null)
        {
            ArgumentNullException.ThrowIfNull(objects);
            digests = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var hash in ObjectHashes(entry))
            {
                using var file = new FileStream(objects.PathOf(hash), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
                digests[hash] = Convert.ToHexStringLower(SHA256.HashData(file));
            }
        }

        var body = JsonSerializer.Serialize(new RemoteEntryBody(entry.Pipeline, entry.Step, entry.Key, entry.CreatedAt.ToUnixTimeMilliseconds(),
            (long)entry.Duration.TotalMilliseconds, entry.Manifest.ToList(), entry.Directories.ToList(), entry.Links.ToList(), digests,
            entry.LogHash, entry.LogHash is null ? 0 : entry.LogSize), RemoteJson.Default.RemoteEntryBody);
        var signature = signingKey is null ? null : Sign(signingKey, entry.Key, body);
        return JsonSerializer.SerializeToUtf8Bytes(new RemoteEntryDocument(Format, entry.Key, body, signature), RemoteJson.Default.RemoteEntryDocument);
    }

    /// <summary>
    /// Reads what the server answered for <paramref name="key"/>. The document's key and the entry's key must both be
    /// <paramref name="key"/> (an entry copied to another key's URL is someone else's result), and with a
    /// <paramref name="signingKey"/> the signature must match. The entry gets <paramref name="components"/> (the
    /// asker's own) and no run id. Returns the entry, or null with <paramref name="problem"/> (a clause such as "it is not signed") and whether it was the signature (<paramref name="signatureRefused"/>). Paths and hashes of the
    /// manifest are not checked here: <c>OutputRestorer.Validate</c> does that, as for a local row.
    /// </summary>
    public static CacheEntry? Parse(ReadOnlySpan<byte> bytes, string key, IReadOnlyList<KeyComponent> components, byte[]? signingKey, out string? problem, out bool signatureRefused) =>
        Parse(bytes, key, components, signingKey, out problem, out signatureRefused, out _);

    /// <summary>
    /// As above; with a <paramref name="signingKey"/>, also <paramref name="sha256"/>: the signed SHA-256 of every
    /// object the manifest names (by its XxHash128 name), which each download must match. A signed entry without a
    /// well-formed digest for every object is refused as unsigned would be.
    /// </summary>
    public static CacheEntry? Parse(ReadOnlySpan<byte> bytes, string key, IReadOnlyList<KeyComponent> components, byte[]? signingKey, out string? problem, out bool signatureRefused,
        out IReadOnlyDictionary<string, string>? sha256)
    {
        signatureRefused = false;
        sha256 = null;
        RemoteEntryDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(bytes, RemoteJson.Default.RemoteEntryDocument);
        }
        catch (JsonException)
        {
            document = null;
        }

        if (document is null || document.Format != Format)
        {
            problem = document is null ? "it is not a readable entry" : $"it has format {document.Format}, which this version does not read";
            return null;
        }

        if (document.Key != key)
        {
            problem = "its key field differs from the key in its URL: it is filed under a key it does not answer";
            return null;
        }

        if (signingKey is not null)
        {
            if (document.Signature is null)
            {
                signatureRefused = true;
                problem = "it is not signed";
                return null;
            }

            var expected = Convert.FromHexString(Sign(signingKey, key, document.Entry));
            var given = document.Signature.Length == expected.Length * 2 && document.Signature.All(char.IsAsciiHexDigit) ? Convert.FromHexString(document.Signature) : [];
            if (!CryptographicOperations.FixedTimeEquals(expected, given))
            {
                signatureRefused = true;
                problem = "its signature does not match (signed with another key, or altered)";
                return null;
            }
        }

        RemoteEntryBody? body;
        try
        {
            body = JsonSerializer.Deserialize(document.Entry, RemoteJson.Default.RemoteEntryBody);
        }
        catch (JsonException)
        {
            body = null;
        }

        if (body is null || body.Manifest.Any(f => f is null) || body.Directories.Any(d => d is null) || body.Links.Any(l => l is null))
        {
            problem = "it is not a readable entry";
            return null;
        }

        if (body.Key != key)
        {
            problem = "it holds the result of another key than the one in its URL";
            return null;
        }

        if (body.DurationMs < 0 || body.CreatedAtUnixMs is < 0 or > 253402300799999)
        {
            problem = "it gives an impossible creation time or duration";
            return null;
        }

        // A kept log is read whole on a replay: a name that is no object hash, or a size no kept log has, is refused.
        if (body.LogHash is { } log && (!ObjectStore.IsValidHash(log) || body.LogSize is <= 0 or > MaxLogBytes))
        {
            problem = "it names a malformed log object";
            return null;
        }

        if (signingKey is not null)
        {
            // Objects are named by XxHash128, which a forger can collide: the signed SHA-256 is what vouches for them.
            if (body.Sha256 is null || body.Manifest.Select(f => f.Hash).Append(body.LogHash).OfType<string>()
                    .Any(hash => !body.Sha256.TryGetValue(hash, out var digest) || digest is not { Length: 64 } || !digest.All(char.IsAsciiHexDigit)))
            {
                signatureRefused = true;
                problem = "it is signed without a SHA-256 digest of every object it names";
                return null;
            }

            sha256 = body.Sha256;
        }

        problem = null;
        return new CacheEntry
        {
            Pipeline = body.Pipeline,
            Step = body.Step,
            Key = key,
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(body.CreatedAtUnixMs),
            Duration = TimeSpan.FromMilliseconds(body.DurationMs),
            Components = components,
            Manifest = body.Manifest,
            Directories = body.Directories,
            Links = body.Links,
            LogHash = body.LogHash,
            LogSize = body.LogHash is null ? 0 : body.LogSize,
        };
    }

    /// <summary>The largest kept log an entry may name: a full log (<c>StepLog.MaxBytes</c>) and its truncation line, with room to spare.</summary>
    internal const long MaxLogBytes = 2L * Execution.StepLog.MaxBytes;

    /// <summary>Every object an entry names, each once: its outputs' and its kept log's.</summary>
    internal static IEnumerable<string> ObjectHashes(CacheEntry entry) =>
        entry.Manifest.Select(f => f.Hash).Append(entry.LogHash).OfType<string>().Distinct(StringComparer.Ordinal);

    /// <summary>Lowercase hex HMAC-SHA256 over "mlpipelines remote entry 1", the key and the entry's UTF-8 bytes, each ended by a newline.</summary>
    internal static string Sign(byte[] signingKey, string key, string entry) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes($"mlpipelines remote entry {Format}\n{key}\n{entry}\n")));
}
