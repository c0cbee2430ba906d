using System.Collections.Concurrent;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Keys;
using MLPipelines.Engine.Store;

namespace MLPipelines.Engine.Remote;

/// <summary>
/// The remote cache for one run (<c>PipelineRemoteCache</c>), between the local store and the server:
/// <list type="bullet">
/// <item><see cref="FetchAsync"/>, on a local miss: the entry at <c>ac/{key}</c>, checked (its key, its signature,
/// the store's own manifest validation), then every object it needs streamed into the local store and verified
/// against its hash, then the entry recorded locally. The runner restores it as it restores a local hit.</item>
/// <item><see cref="StartUpload"/>, after a step's result is stored locally: its objects (HEAD first, so an object
/// is never overwritten), then its entry, in the background while downstream steps go on;
/// <see cref="FinishUploadsAsync"/> waits for them at the end of the run.</item>
/// </list>
/// Nothing here fails the build: every failure is one warning per kind (MLP5001–MLP5004) and the step goes on
/// with the local store only; a refused entry or object (MLP5005–MLP5007) is a warning naming the step, which then
/// executes. Built only when <c>PipelineRemoteCache</c> is set, so a build without it creates no HTTP client.
/// </summary>
public sealed class RemoteCache : IDisposable
{
    private readonly RemoteCacheOptions _options;
    private readonly PipelineOptions _pipeline;
    private readonly CacheStore _store;
    private readonly IPipelineLog _log;
    private readonly TimeProvider _clock;
    private readonly Lazy<RemoteCacheClient> _lazyClient;
    private readonly ConcurrentDictionary<RemoteFailureKind, bool> _reported = new();
    private readonly ConcurrentDictionary<string, bool> _unshared = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _fetched = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>What this build's lookup of a key found on the server; the upload of that key follows it (<see cref="UploadAsync"/>).</summary>
    private readonly ConcurrentDictionary<string, Lookup> _lookups = new(StringComparer.Ordinal);

    private enum Lookup
    {
        /// <summary>404: an entry may be put.</summary>
        Absent,

        /// <summary>An entry this build refused (unsigned, badly signed, invalid, too large, expired, objects missing or altered): a good one may replace it.</summary>
        Refused,

        /// <summary>A valid entry: it is never overwritten (another build's result for the same key).</summary>
        Present,

        /// <summary>The request failed (server error, timeout, garbage): nothing is known, nothing is put.</summary>
        Failed,
    }

    /// <summary>Whether this run put a step's entry into the local store from the remote cache (its hit is a remote one).</summary>
    public bool Fetched(StepDefinition step) => _fetched.ContainsKey(step.Name);
    private readonly List<Task<bool>> _uploads = [];
    private readonly Lock _uploadsLock = new();

    // Uploads of several steps at once share the connection pool; a few at a time keep a build's last step from
    // waiting behind every upload of the run.
    private readonly SemaphoreSlim _uploadSlots = new(4);

    public RemoteCache(RemoteCacheOptions options, PipelineOptions pipeline, CacheStore store, IPipelineLog log, TimeProvider clock)
    {
        _options = options;
        _pipeline = pipeline;
        _store = store;
        _log = log;
        _clock = clock;
        // Made at the first request: a build whose steps all hit locally loads no HTTP or Polly code at all.
        _lazyClient = new Lazy<RemoteCacheClient>(() => new RemoteCacheClient(options));
    }

    private RemoteCacheClient Client => _lazyClient.Value;

    /// <summary>
    /// Whether a step's results can be shared: a key with store-keyed components (<c>Environment</c>,
    /// <c>EnvironmentDependencies</c>) differs per store unless a signing key gives every machine the same secret
    /// (<see cref="RemoteCacheOptions.SharedEnvironmentSecret"/>).
    /// </summary>
    public bool Shares(StepDefinition step, StepKey key)
    {
        if (_options.SigningKey is not null || !key.Components.Any(c => c.Kind is ComponentKind.StepEnvironment or ComponentKind.EnvironmentDependency))
        {
            return true;
        }

        if (_unshared.TryAdd(step.Name, true))
        {
            _log.Detail($"Step {step.Name} is not shared through the remote cache: its key holds environment values, which are hashed with this store's own secret unless {RemoteCacheOptions.SigningKeyVariable} is set.");
        }

        return false;
    }

    /// <summary>
    /// Looks <paramref name="key"/> up remotely and, on a hit, puts it into the local store: objects verified
    /// against their hashes first, then the entry. Returns the entry as now recorded locally (restore it as a local
    /// hit), or null: not there, refused (warned), or the remote is failing (warned once).
    /// </summary>
    /// <param name="validate">The store's check of an entry against the step's outputs (<c>OutputRestorer.Validate</c>): what is wrong, or null.</param>
    public async Task<CacheEntry?> FetchAsync(StepDefinition step, StepKey key, Func<CacheEntry, string?> validate, CancellationToken cancellationToken)
    {
        if (!_options.Downloads || !Shares(step, key))
        {
            return null;
        }

        try
        {
            if (await FindAsync(step, key, validate, cancellationToken).ConfigureAwait(false) is not var (entry, sha256))
            {
                return null;
            }

            // A valid entry: never replaced by this build, whatever becomes of it below unless one of its objects is refused
            // (a download failing midway or a full local disk says nothing against it).
            _lookups[key.Value] = Lookup.Present;
            foreach (var file in entry.Manifest.DistinctBy(f => f.Hash).Where(f => !_store.Objects.Contains(f.Hash)))
            {
                var download = await Client.DownloadObjectAsync(file.Hash, file.Size, (UnixFileMode)(file.Mode & OutputCapture.PermissionMask), _store.Objects, cancellationToken,
                    sha256?[file.Hash]).ConfigureAwait(false);
                if (download != ObjectDownload.Stored)
                {
                    _lookups[key.Value] = Lookup.Refused;
                }

                if (download == ObjectDownload.Missing)
                {
                    Refuse(step, ErrorCodes.RemoteEntryInvalid, $"the remote cache's entry for its key names the object {file.Hash} (of {file.Path}), which the server does not have");
                    return null;
                }

                if (download == ObjectDownload.Mismatch)
                {
                    Refuse(step, ErrorCodes.RemoteObjectTampered,
                        $"the remote cache's object {file.Hash} (of {file.Path}) does not match its hash or size{(sha256 is null ? "" : ", or the SHA-256 its signed entry gives")}: it was altered on the server or in transit, and was not stored. Remove cas/{file.Hash} from the server; uploads never overwrite an object");
                    return null;
                }
            }

            // The kept log is not an output: one the server lacks or that fails its check is left out (never stored),
            // and the hit stands without it.
            if (entry.LogHash is { } log && !_store.Objects.Contains(log))
            {
                var download = await Client.DownloadObjectAsync(log, entry.LogSize, UnixFileMode.UserRead | UnixFileMode.UserWrite, _store.Objects, cancellationToken,
                    sha256?[log]).ConfigureAwait(false);
                if (download != ObjectDownload.Stored)
                {
                    _log.Detail($"Step {step.Name}: the kept log of the remote cache's result ({log}) was {(download == ObjectDownload.Missing ? "not on the server" : "refused: it does not match its hash, size or SHA-256")}; the result is used without it.");
                    entry = entry with { LogHash = null, LogSize = 0 };
                }
            }

            // Under the store's write lock with the objects' presence checked again: a concurrent collection may have
            // taken one in between, and then this is a miss.
            if (!_store.RecordEntry(entry))
            {
                return null;
            }

            _log.Detail($"Step {step.Name}: its result was fetched from the remote cache ({entry.Manifest.Count} files, {entry.TotalSize} bytes) into the local store.");
            _fetched.TryAdd(step.Name, true);
            return _store.FindEntry(key.Value);
        }
        catch (RemoteEntryTooLargeException e)
        {
            _lookups[key.Value] = Lookup.Refused;
            Refuse(step, ErrorCodes.RemoteEntryInvalid, $"the remote cache's entry for its key was refused: {e.Message}");
            return null;
        }
        catch (RemoteCacheException e)
        {
            _lookups.TryAdd(key.Value, Lookup.Failed); // An object's download failing leaves the entry valid (Present).
            Report(e, step);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException or CorruptEntryException)
        {
            // The local side (disk full, busy store): the step executes; its own store write reports what persists.
            _log.Detail($"Step {step.Name}: the remote cache's result could not be put into the local store ({e.Message}).");
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            // Whatever else a server's answer provokes costs the sharing, never the build (SPEC "Failure and bad input");
            // a cancellation that is not the build's (a timeout nothing turned into Polly's) is one of those.
            _lookups.TryAdd(key.Value, Lookup.Failed);
            Unexpected(step, "looking it up", e);
            return null;
        }
    }

    /// <summary>
    /// The entry at <c>ac/{key}</c> as <see cref="FetchAsync"/> accepts it: parsed, its key and signature checked, the
    /// store's validation passed, not expired. Null when there is none or it is refused (warned, as the run warns).
    /// </summary>
    /// <exception cref="RemoteCacheException">The request failed.</exception>
    private async Task<(CacheEntry Entry, IReadOnlyDictionary<string, string>? Sha256)?> FindAsync(StepDefinition step, StepKey key, Func<CacheEntry, string?> validate, CancellationToken cancellationToken)
    {
        var bytes = await Client.GetEntryAsync(key.Value, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            _lookups[key.Value] = Lookup.Absent;
            _log.Detail($"Step {step.Name}: the remote cache has no result for its key either.");
            return null;
        }

        var entry = RemoteEntry.Parse(bytes, key.Value, key.Components, _options.SigningKey, out var problem, out var signatureRefused, out var sha256);
        if (entry is not null)
        {
            problem = entry.Step != step.Name || entry.Pipeline != _pipeline.PipelineName
                ? $"it belongs to step '{entry.Step}' of pipeline '{entry.Pipeline}'"
                : validate(entry);
        }

        if (entry is null || problem is not null)
        {
            _lookups[key.Value] = Lookup.Refused;
            Refuse(step, signatureRefused ? ErrorCodes.RemoteEntryNotSigned : ErrorCodes.RemoteEntryInvalid, $"the remote cache's entry for its key was refused: {problem}" +
                (signatureRefused ? $" while {RemoteCacheOptions.SigningKeyVariable} is set" : ""));
            return null;
        }

        var now = _clock.GetUtcNow();
        if (entry.CreatedAt > now)
        {
            entry = entry with { CreatedAt = now }; // Another machine's clock ahead of ours; a later time would outlive ExpiresAfter.
        }

        if (step.ExpiresAfter is { } lifetime && entry.CreatedAt + lifetime < now)
        {
            _lookups[key.Value] = Lookup.Refused;
            _log.Detail($"Step {step.Name}: the remote cache's result is older than its ExpiresAfter.");
            return null;
        }

        return (entry, sha256);
    }

    /// <summary>
    /// For the plan (<c>PlanPipeline</c>, <c>ShowPipelineGraph</c>): whether <see cref="FetchAsync"/> would give an
    /// entry, read-only. The entry is checked as the fetch checks it, and each object it needs that the local store
    /// lacks is asked for by HEAD (there, of the size the manifest gives), never downloaded; nothing is stored or
    /// uploaded. An object altered on the server with its size kept shows only when the run downloads it (MLP5007).
    /// Failures warn as in the run (one warning per kind) and give null: the run then goes on local-only too.
    /// </summary>
    public async Task<CacheEntry?> PeekAsync(StepDefinition step, StepKey key, Func<CacheEntry, string?> validate, CancellationToken cancellationToken)
    {
        if (!_options.Downloads || !Shares(step, key))
        {
            return null;
        }

        try
        {
            if (await FindAsync(step, key, validate, cancellationToken).ConfigureAwait(false) is not var (entry, _))
            {
                return null;
            }

            foreach (var file in entry.Manifest.DistinctBy(f => f.Hash).Where(f => !_store.Objects.Contains(f.Hash)))
            {
                if (!await Client.HasObjectAsync(file.Hash, file.Size, cancellationToken).ConfigureAwait(false))
                {
                    Refuse(step, ErrorCodes.RemoteEntryInvalid, $"the remote cache's entry for its key names the object {file.Hash} (of {file.Path}), which the server does not have (or has with another size)");
                    return null;
                }
            }

            return entry;
        }
        catch (RemoteEntryTooLargeException e)
        {
            Refuse(step, ErrorCodes.RemoteEntryInvalid, $"the remote cache's entry for its key was refused: {e.Message}");
            return null;
        }
        catch (RemoteCacheException e)
        {
            Report(e, step);
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            Unexpected(step, "looking it up", e);
            return null;
        }
    }

    /// <summary>
    /// Starts uploading a stored result in the background: each object the server lacks (HEAD, then PUT), then the
    /// entry, signed when a signing key is set. Does nothing in <c>Read</c> mode.
    /// </summary>
    public void StartUpload(StepDefinition step, StepKey key, CacheEntry entry, CancellationToken cancellationToken)
    {
        if (!_options.Uploads || !Shares(step, key))
        {
            return;
        }

        var upload = Task.Run(() => UploadAsync(step, entry, cancellationToken), CancellationToken.None);
        lock (_uploadsLock)
        {
            _uploads.Add(upload);
        }
    }

    /// <summary>
    /// Waits for every upload started (after Ctrl+C they stop at once, so the client is never disposed under one);
    /// returns how many entries went up.
    /// </summary>
    public async Task<int> FinishUploadsAsync()
    {
        Task<bool>[] uploads;
        lock (_uploadsLock)
        {
            uploads = [.. _uploads];
        }

        try
        {
            await Task.WhenAll(uploads).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The build was cancelled: every upload stops at its next request, and what finished before counts.
        }

        return uploads.Count(up => up.IsCompletedSuccessfully && up.Result);
    }

    private async Task<bool> UploadAsync(StepDefinition step, CacheEntry entry, CancellationToken cancellationToken)
    {
        await _uploadSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // An entry goes up only where this build found none, or one it refused; never over another build's valid
            // entry for the same key (a forced step's result, a concurrent build's). Without a lookup (forced steps,
            // Write mode), a HEAD asks.
            var looked = _lookups.TryGetValue(entry.Key, out var found) ? found : (Lookup?)null;
            if (looked is Lookup.Present or Lookup.Failed || (looked is null && await Client.HasEntryAsync(entry.Key, cancellationToken).ConfigureAwait(false)))
            {
                _log.Detail(looked is Lookup.Failed
                    ? $"Step {step.Name}: its result is not uploaded: the lookup of its key failed, so what the server holds for it is not known."
                    : $"Step {step.Name}: its result is not uploaded: the remote cache already has an entry for its key, which is never overwritten.");
                return false;
            }

            // The outputs' objects and the kept log's, each once.
            var objects = entry.Manifest.Select(f => (f.Hash, f.Size)).ToList();
            if (entry.LogHash is { } log)
            {
                objects.Add((log, entry.LogSize));
            }

            foreach (var (hash, size) in objects.DistinctBy(o => o.Hash))
            {
                if (!await Client.HasObjectAsync(hash, size, cancellationToken).ConfigureAwait(false))
                {
                    await Client.PutObjectAsync(hash, _store.Objects.PathOf(hash), cancellationToken).ConfigureAwait(false);
                }
            }

            // Last: a reader that finds the entry finds every object it names.
            await Client.PutEntryAsync(entry.Key, RemoteEntry.Serialize(entry, _options.SigningKey, _store.Objects), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RemoteCacheException e)
        {
            Report(e, step);
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Its object was collected by another build's prune meanwhile: no entry goes up without all its objects.
            _log.Detail($"Step {step.Name}: its result was not uploaded ({e.Message}).");
            return false;
        }
        catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            Unexpected(step, "uploading its result", e);
            return false;
        }
        finally
        {
            _uploadSlots.Release();
        }
    }

    /// <summary>A failure nothing above names (a bug): one warning a build, the stack trace at <c>-v:d</c>.</summary>
    private void Unexpected(StepDefinition step, string doing, Exception e)
    {
        if (_unexpected.TryAdd(0, true))
        {
            _log.Warning(new PipelineDiagnostic(ErrorCodes.RemoteUnexpectedFailure, step.Name,
                $"The remote cache failed unexpectedly while {doing} for step '{step.Name}' ({e.GetType().Name}: {e.Message}). The build goes on with the local cache only for that step. Please report this with the build log (-v:d shows details)."));
        }

        _log.Trace(e.ToString());
    }

    private readonly ConcurrentDictionary<int, bool> _unexpected = new();

    private void Refuse(StepDefinition step, string code, string what) =>
        _log.Warning(new PipelineDiagnostic(code, step.Name, $"Step '{step.Name}' is not restored from the remote cache: {what}. The step executes instead."));

    /// <summary>One warning per kind of failure and build; the breaker's opening is a detail (it follows a warned failure).</summary>
    private void Report(RemoteCacheException e, StepDefinition step)
    {
        if (e.CircuitOpen && _reported.TryAdd(RemoteFailureKind.Off, true))
        {
            _log.Detail(e.Kind == RemoteFailureKind.Timeout
                ? $"The remote cache at {_options.BaseUrl} did not answer in time: it is not tried again in this build."
                : $"The remote cache at {_options.BaseUrl} failed repeatedly: it is not tried again in this build.");
        }

        if (e.Kind == RemoteFailureKind.Off)
        {
            return;
        }

        if (!_reported.TryAdd(e.Kind, true))
        {
            _log.Detail($"Remote cache, step {step.Name}: {e.Message}.");
            return;
        }

        var (code, what) = e.Kind switch
        {
            RemoteFailureKind.Unreachable => (ErrorCodes.RemoteUnreachable, "could not be reached"),
            RemoteFailureKind.Timeout => (ErrorCodes.RemoteTimeout, "did not answer in time"),
            RemoteFailureKind.Unauthorized => (ErrorCodes.RemoteAuthFailed, $"refused the credentials ({CredentialsGiven()})"),
            _ => (ErrorCodes.RemoteServerError, "answered with an error"),
        };
        _log.Warning(new PipelineDiagnostic(code, step.Name,
            $"The remote cache at {_options.BaseUrl} {what} ({e.Message}), for step '{step.Name}'. The build goes on with the local cache only; after repeated failures the remote cache is not tried again in this build."));
    }

    /// <summary>Which credential variables are set, never their values.</summary>
    private string CredentialsGiven() =>
        _options.Token is not null ? $"a bearer token from {RemoteCacheOptions.TokenVariable}"
        : _options.User is not null && _options.Password is not null ? $"the user and password from {RemoteCacheOptions.UserVariable} and {RemoteCacheOptions.PasswordVariable}"
        : _options.User is not null ? $"{RemoteCacheOptions.UserVariable} is set but {RemoteCacheOptions.PasswordVariable} is missing: Basic credentials need both, so none were sent"
        : _options.Password is not null ? $"{RemoteCacheOptions.PasswordVariable} is set but {RemoteCacheOptions.UserVariable} is missing: Basic credentials need both, so none were sent"
        : $"none were given: set {RemoteCacheOptions.TokenVariable}, or {RemoteCacheOptions.UserVariable} and {RemoteCacheOptions.PasswordVariable}";

    public void Dispose()
    {
        if (_lazyClient.IsValueCreated)
        {
            _lazyClient.Value.Dispose();
        }

        _uploadSlots.Dispose();
    }
}
