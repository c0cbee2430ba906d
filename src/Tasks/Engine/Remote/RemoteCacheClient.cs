using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MLPipelines.Engine.Store;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace MLPipelines.Engine.Remote;

/// <summary>What went wrong talking to the server, one warning each (<see cref="RemoteCache"/>).</summary>
public enum RemoteFailureKind
{
    /// <summary>Connection refused or reset, unknown host, TLS failure (MLP5001).</summary>
    Unreachable,

    /// <summary>A request over its time limit (MLP5002).</summary>
    Timeout,

    /// <summary>5xx, or a status the protocol does not expect (MLP5003).</summary>
    ServerError,

    /// <summary>401 or 403 (MLP5004).</summary>
    Unauthorized,

    /// <summary>The circuit breaker is open after repeated failures of no known kind: no request was sent.</summary>
    Off,
}

/// <summary>A request that failed for good (after retries); <see cref="Exception.Message"/> never holds credentials.</summary>
public sealed class RemoteCacheException(RemoteFailureKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public RemoteFailureKind Kind { get; } = kind;

    /// <summary>The circuit breaker is open: no request was sent, and none will be in this build.</summary>
    public bool CircuitOpen { get; init; }
}

/// <summary>
/// The HTTP side of the remote cache: GET, HEAD and PUT under a base URL, in the layout of Bazel's HTTP cache
/// (<c>{base}/ac/{key}</c> for entries, <c>{base}/cas/{hash}</c> for content-addressed objects), which nginx or Apache
/// with WebDAV PUT, Artifactory and Nexus generic repositories and bazel-remote all serve. Every request goes through
/// one Polly.Core pipeline: retries for transient failures (connection errors, 5xx; never 401/403, never a timeout,
/// which would only multiply the wait), a circuit breaker that stops all requests of this build after repeated
/// failures (Polly's breaker, as Gradle disables its remote cache for the rest of a build after an error), and a
/// timeout per attempt. Objects stream both ways; nothing larger than an entry is ever held in memory.
/// </summary>
public sealed class RemoteCacheClient : IDisposable
{
    /// <summary>Failed attempts (within a build) after which, at half of all attempts failing, the breaker opens.</summary>
    public const int BreakerMinimumThroughput = 3;

    /// <summary>The largest entry read (its manifest lists every output file; 5,000 files are about 1 MB).</summary>
    public const int MaxEntryBytes = 64 << 20;

    private static readonly ResiliencePropertyKey<TimeSpan> TimeoutKey = new("mlpipelines.timeout");

    private readonly HttpClient _http;
    private readonly ResiliencePipeline _pipeline;
    private readonly RemoteCacheOptions _options;

    public RemoteCacheClient(RemoteCacheOptions options)
    {
        _options = options;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = options.BaseUrl,
            Timeout = Timeout.InfiniteTimeSpan, // Polly's timeout strategy, per attempt and scaled by size.
            MaxResponseContentBufferSize = MaxEntryBytes,
        };
        if (options.Token is { } token)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        else if (options.User is { } user && options.Password is { } password)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }

        var failure = new PredicateBuilder()
            .Handle<HttpRequestException>()
            .Handle<HttpIOException>()
            .Handle<TimeoutRejectedException>()
            .Handle<StatusException>();
        _pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<HttpIOException>().Handle<StatusException>(e => e.Transient),
                MaxRetryAttempts = 2,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = failure,
                FailureRatio = 0.5,
                MinimumThroughput = BreakerMinimumThroughput,
                // A build, however long: once open, the breaker stays open (the longest durations Polly allows).
                SamplingDuration = TimeSpan.FromDays(1),
                BreakDuration = TimeSpan.FromDays(1),
            })
            .AddTimeout(new TimeoutStrategyOptions
            {
                TimeoutGenerator = args => ValueTask.FromResult(args.Context.Properties.GetValue(TimeoutKey, options.RequestTimeout)),
            })
            .Build();
    }

    /// <summary>GET <c>ac/{key}</c>: the entry's bytes, or null when the server has none (404).</summary>
    /// <exception cref="RemoteCacheException">The request failed for good.</exception>
    public Task<byte[]?> GetEntryAsync(string key, CancellationToken cancellationToken) =>
        SendAsync($"ac/{key}", _options.RequestTimeout, async token =>
        {
            using var response = await _http.GetAsync($"ac/{key}", HttpCompletionOption.ResponseContentRead, token).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.NotFound ? null : await Ensure(response).Content.ReadAsByteArrayAsync(token).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>
    /// GET <c>cas/{hash}</c> streamed into <paramref name="objects"/> while it is hashed
    /// (<see cref="ObjectStore.AddVerifiedAsync"/>). <see cref="ObjectDownload.Mismatch"/> when the content is not
    /// what its name says; <see cref="ObjectDownload.Missing"/> on 404.
    /// </summary>
    /// <exception cref="RemoteCacheException">The request failed for good.</exception>
    /// <param name="sha256">A signed entry's SHA-256 of the object: checked too, in the same pass (<see cref="ObjectStore.AddVerifiedAsync"/>).</param>
    public Task<ObjectDownload> DownloadObjectAsync(string hash, long size, UnixFileMode mode, ObjectStore objects, CancellationToken cancellationToken, string? sha256 = null) =>
        SendAsync($"cas/{hash}", TimeFor(size), async token =>
        {
            using var response = await _http.GetAsync($"cas/{hash}", HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return ObjectDownload.Missing;
            }

            if (Ensure(response).Content.Headers.ContentLength is { } length && length != size)
            {
                return ObjectDownload.Mismatch;
            }

            var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                return await objects.AddVerifiedAsync(body, hash, size, mode, token, sha256).ConfigureAwait(false) ? ObjectDownload.Stored : ObjectDownload.Mismatch;
            }
        }, cancellationToken);

    /// <summary>HEAD <c>cas/{hash}</c>: whether the server has the object (objects are never overwritten).</summary>
    /// <exception cref="RemoteCacheException">The request failed for good.</exception>
    public Task<bool> HasObjectAsync(string hash, CancellationToken cancellationToken) =>
        SendAsync($"cas/{hash}", _options.RequestTimeout, async token =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, $"cas/{hash}");
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
            return response.StatusCode != HttpStatusCode.NotFound && Ensure(response).IsSuccessStatusCode;
        }, cancellationToken);

    /// <summary>PUT <c>cas/{hash}</c>, streamed from the local object file.</summary>
    /// <exception cref="RemoteCacheException">The request failed for good.</exception>
    /// <exception cref="IOException">The local object is gone (collected by another build) or unreadable.</exception>
    public Task PutObjectAsync(string hash, string path, CancellationToken cancellationToken)
    {
        var size = new FileInfo(path).Length;
        return SendAsync($"cas/{hash}", TimeFor(size), async token =>
        {
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.SequentialScan | FileOptions.Asynchronous);
            using var content = new StreamContent(file, 1 << 16);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = size;
            using var response = await _http.PutAsync($"cas/{hash}", content, token).ConfigureAwait(false);
            Ensure(response);
            return true;
        }, cancellationToken);
    }

    /// <summary>PUT <c>ac/{key}</c>: an entry (after all its objects).</summary>
    /// <exception cref="RemoteCacheException">The request failed for good.</exception>
    public Task PutEntryAsync(string key, byte[] entry, CancellationToken cancellationToken) =>
        SendAsync($"ac/{key}", _options.RequestTimeout, async token =>
        {
            using var content = new ByteArrayContent(entry);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await _http.PutAsync($"ac/{key}", content, token).ConfigureAwait(false);
            Ensure(response);
            return true;
        }, cancellationToken);

    private TimeSpan TimeFor(long bytes) => _options.RequestTimeout + TimeSpan.FromSeconds((double)bytes / _options.MinimumBytesPerSecond);

    /// <summary>
    /// One request through the pipeline; every way it can fail for good becomes a <see cref="RemoteCacheException"/>
    /// naming the path (never the credentials). The build's own cancellation passes through as it is.
    /// </summary>
    private async Task<T> SendAsync<T>(string path, TimeSpan timeout, Func<CancellationToken, Task<T>> send, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(TimeoutKey, timeout);
        try
        {
            return await _pipeline.ExecuteAsync(async ctx => await send(ctx.CancellationToken).ConfigureAwait(false), context).ConfigureAwait(false);
        }
        catch (BrokenCircuitException e)
        {
            // Opened by failures of other requests (parallel steps): the last one's cause, so it is still warned of.
            var (kind, why) = e.InnerException is { } cause ? Classify(cause, path, timeout) ?? (RemoteFailureKind.Off, cause.Message) : (RemoteFailureKind.Off, "repeated failures");
            throw new RemoteCacheException(kind, why, e) { CircuitOpen = true };
        }
        catch (Exception e) when (Classify(e, path, timeout) is var (kind, why))
        {
            throw new RemoteCacheException(kind, why, e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>What kind of failure an exception of a request is, and a message naming the path; null for any other exception.</summary>
    private static (RemoteFailureKind Kind, string Message)? Classify(Exception e, string path, TimeSpan timeout) => e switch
    {
        TimeoutRejectedException => (RemoteFailureKind.Timeout, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{path}: no answer within {timeout.TotalSeconds:0.#} s")),
        StatusException status => (status.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden ? RemoteFailureKind.Unauthorized : RemoteFailureKind.ServerError,
            $"{path}: HTTP {(int)status.Status} {status.Status}"),
        HttpRequestException or HttpIOException => (RemoteFailureKind.Unreachable, $"{path}: {e.Message}"),
        _ => null,
    };

    private static HttpResponseMessage Ensure(HttpResponseMessage response) =>
        response.IsSuccessStatusCode ? response : throw new StatusException(response.StatusCode);

    /// <summary>An answer other than success or 404; 5xx (and 429) are worth a retry.</summary>
    private sealed class StatusException(HttpStatusCode status) : Exception($"HTTP {(int)status}")
    {
        public HttpStatusCode Status { get; } = status;

        public bool Transient => (int)Status >= 500 || Status == HttpStatusCode.TooManyRequests;
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>What became of one object's download.</summary>
public enum ObjectDownload
{
    /// <summary>Verified against its hash and size, and stored.</summary>
    Stored,

    /// <summary>The server does not have it (404).</summary>
    Missing,

    /// <summary>Its content or size is not what its name and the manifest say: tampered, or damaged in transit.</summary>
    Mismatch,
}
