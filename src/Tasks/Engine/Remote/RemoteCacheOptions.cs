using System.Security.Cryptography;
using System.Text;

namespace MLPipelines.Engine.Remote;

/// <summary><c>PipelineRemoteCacheMode</c>: which way results travel between the local store and the server.</summary>
public enum RemoteCacheMode
{
    /// <summary>Look up before executing, upload after (the default: trusted builds such as the main branch).</summary>
    ReadWrite,

    /// <summary>Look up only, never upload: builds whose results must not be shared (pull requests, forks).</summary>
    Read,

    /// <summary>Upload only, never look up: a build that fills the cache and must execute every step itself.</summary>
    Write,
}

/// <summary>
/// The remote cache's settings: <c>PipelineRemoteCache</c> and <c>PipelineRemoteCacheMode</c> from the project, the
/// credentials and signing key from environment variables only (<see cref="FromEnvironment"/>), so they never appear
/// in a project file, a log line or a record. <see cref="ToString"/> shows the URL and mode only.
/// </summary>
public sealed record RemoteCacheOptions
{
    /// <summary>Bearer token, sent as <c>Authorization: Bearer &lt;token&gt;</c> (Turborepo's, Gradle's and most generic repositories' scheme).</summary>
    public const string TokenVariable = "MLPIPELINES_REMOTE_CACHE_TOKEN";

    /// <summary>With <see cref="PasswordVariable"/>: HTTP Basic credentials (nginx or Apache <c>auth_basic</c>, Artifactory, Nexus).</summary>
    public const string UserVariable = "MLPIPELINES_REMOTE_CACHE_USER";

    public const string PasswordVariable = "MLPIPELINES_REMOTE_CACHE_PASSWORD";

    /// <summary>The HMAC-SHA256 key entries are signed with and checked against (Turborepo's remote cache signatures).</summary>
    public const string SigningKeyVariable = "MLPIPELINES_REMOTE_CACHE_SIGNING_KEY";

    /// <summary>Absolute http or https base URL, always ending in <c>/</c> (so <c>ac/…</c> and <c>cas/…</c> resolve below it).</summary>
    public required Uri BaseUrl { get; init; }

    public RemoteCacheMode Mode { get; init; } = RemoteCacheMode.ReadWrite;

    public string? Token { get; init; }

    public string? User { get; init; }

    public string? Password { get; init; }

    /// <summary><see cref="SigningKeyVariable"/> as UTF-8 bytes; null when not set (entries go up unsigned and are accepted unsigned).</summary>
    public byte[]? SigningKey { get; init; }

    /// <summary>
    /// How long one request may take before it counts as a timeout: until the response headers for an entry or a
    /// HEAD, plus <see cref="MinimumBytesPerSecond"/> for an object's body (so a large object is not cut off).
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The slowest transfer rate an object's upload or download is given time for, in bytes per second.</summary>
    public long MinimumBytesPerSecond { get; init; } = 1 << 20;

    public bool Downloads => Mode != RemoteCacheMode.Write;

    public bool Uploads => Mode != RemoteCacheMode.Read;

    /// <summary>
    /// The secret that store-keyed key components (<c>Environment</c>, <c>EnvironmentDependencies</c>) are hashed with
    /// when results are shared: HMAC-SHA256(signing key, "mlpipelines environment key"), the same on every machine
    /// that has the signing key and useless to anyone who does not. Null without a signing key: such steps then keep
    /// the local store's secret and are neither looked up nor uploaded.
    /// </summary>
    public byte[]? SharedEnvironmentSecret =>
        SigningKey is null ? null : HMACSHA256.HashData(SigningKey, "mlpipelines environment key"u8);

    /// <summary>
    /// Reads the properties (see the README's reference) and the environment's credentials. Returns null when
    /// <paramref name="url"/> is empty (the remote cache is off); a bad URL or mode adds an error
    /// (<see cref="ErrorCodes.InvalidRemoteCacheUrl"/>, <see cref="ErrorCodes.InvalidRemoteCacheMode"/>) and returns null.
    /// A URL that holds credentials is refused without quoting them.
    /// </summary>
    public static RemoteCacheOptions? Parse(string? url, string? mode, Func<string, string?> environment, List<PipelineDiagnostic> diagnostics)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return null;
        }

        // By name only: Enum.TryParse would also take "1" or "Read,Write".
        var parsedMode = RemoteCacheMode.ReadWrite;
        var modeValid = string.IsNullOrWhiteSpace(mode) ||
            Enum.TryParse(Enum.GetNames<RemoteCacheMode>().FirstOrDefault(n => n.Equals(mode.Trim(), StringComparison.OrdinalIgnoreCase)) ?? "", out parsedMode);
        if (!modeValid)
        {
            diagnostics.Add(new(ErrorCodes.InvalidRemoteCacheMode, null,
                $"Property PipelineRemoteCacheMode='{mode}' is not valid: use ReadWrite (the default), Read (never upload: untrusted builds) or Write (never download)."));
        }

        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            diagnostics.Add(new(ErrorCodes.InvalidRemoteCacheUrl, null,
                $"Property PipelineRemoteCache='{Shown(url, uri)}' is not valid: give an absolute http:// or https:// base URL, e.g. https://cache.example.com/pipelines."));
            return null;
        }

        if (uri.UserInfo.Length > 0)
        {
            diagnostics.Add(new(ErrorCodes.InvalidRemoteCacheUrl, null,
                $"Property PipelineRemoteCache holds credentials (user:password@): they would end up in project files and logs. Give the URL without them and set {TokenVariable}, or {UserVariable} and {PasswordVariable}, in the build's environment."));
            return null;
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            diagnostics.Add(new(ErrorCodes.InvalidRemoteCacheUrl, null,
                $"Property PipelineRemoteCache='{Shown(url, uri)}' is not valid: a base URL has no query (?) or fragment (#); entries and objects are found at <base>/ac/<key> and <base>/cas/<hash>."));
            return null;
        }

        if (!modeValid)
        {
            return null;
        }

        static string? Value(string? text) => string.IsNullOrEmpty(text) ? null : text;
        var builder = new UriBuilder(uri);
        if (!builder.Path.EndsWith('/'))
        {
            builder.Path += "/";
        }

        return new RemoteCacheOptions
        {
            BaseUrl = builder.Uri,
            Mode = parsedMode,
            Token = Value(environment(TokenVariable)),
            User = Value(environment(UserVariable)),
            Password = Value(environment(PasswordVariable)),
            SigningKey = Value(environment(SigningKeyVariable)) is { } key ? Encoding.UTF8.GetBytes(key) : null,
        };
    }

    /// <summary>
    /// <paramref name="url"/> as an error may quote it: without its query and fragment (<c>?token=…</c> is a common
    /// way to pass a credential) and, when it holds user-info (<c>user:password@</c>), not at all.
    /// </summary>
    private static string Shown(string url, Uri? parsed)
    {
        var text = url.Trim();
        var end = text.IndexOfAny(['?', '#']);
        var shown = end < 0 ? text : text[..end] + (text[end] == '?' ? "?…" : "#…");

        // Any '@' left may be user-info the parser did not see as such ("ci:secret@host" parses as scheme "ci").
        return parsed?.UserInfo is { Length: > 0 } || shown.Contains('@', StringComparison.Ordinal) ? "(a URL with credentials)" : shown;
    }

    /// <summary>The URL and mode only: credentials and the signing key are never shown.</summary>
    public override string ToString() => $"{BaseUrl} ({Mode})";
}
