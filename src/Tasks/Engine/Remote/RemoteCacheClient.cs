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

/// <summary>
/// An entry larger than <see cref="RemoteCacheClient.MaxEntryBytes"/>: refused without reading it past the limit. A
/// refusal of that one entry (MLP5006), not a failure of the server: never retried, never counted by the breaker.
/// </summary>
public sealed class RemoteEntryTooLargeException(string message) : Exception(message);

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
/// failures (Polly's breaker, as Gradle disables its remote cache for the rest of a build after an error) or at the
/// first timeout, and a timeout per attempt. Redirects are never followed. Objects stream both ways; nothing larger than an entry is ever held in memory.
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

    // Opens the breaker at once on a timeout: a server that does not answer is not asked again in this build.
    private readonly CircuitBreakerManualControl _isolate = new();

    public RemoteCacheClient(RemoteCacheOptions options)
    {
        _options = options;
        // No automatic redirects: a cache never redirects, and following one would re-send a PUT's body to a login
        // page or count its 200 as an object present. A 3xx is an unexpected status (MLP5003).
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AllowAutoRedirect = false })
        {
            BaseAddress = options.BaseUrl,
            Timeout = Timeout.InfiniteTimeSpan, // Polly's timeout strategy, per attempt and scaled by size.
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
                ManualControl = _isolate,
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

    /// <summary>
    /// GET <c>ac/{key}</c>: the entry's bytes, or null when the server has none (404). Only a 200 whose body is a JSON
    /// object with a numeric <c>format</c> (the shape of every entry format) is an answer; anything else (a login
    /// page, a proxy's error page, a redirect) is the server failing, counted by the breaker.
    /// </summary>
    /// <exception cref="RemoteCacheException">The request failed for good.</exception>
    /// <exception cref="RemoteEntryTooLargeException">The entry is larger than <see cref="MaxEntryBytes"/>.</exception>
    public Task<byte[]?> GetEntryAsync(string key, CancellationToken cancellationToken) =>
        SendAsync($"ac/{key}", _options.RequestTimeout, async token =>
        {
            using var response = await _http.GetAsync($"ac/{key}", HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            Ensure(response, HttpStatusCode.OK);
            if (response.Content.Headers.ContentLength > MaxEntryBytes)
            {
                throw TooLarge(key);
            }

            var body = await ReadAtMostAsync(response.Content, MaxEntryBytes, token).ConfigureAwait(false) ?? throw TooLarge(key);
            return IsEntryShaped(body) ? body : throw new StatusException(response.StatusCode, NotAnEntry(response));
        }, cancellationToken);

    /// <summary>
    /// HEAD <c>ac/{key}</c>: whether the server has an entry for the key (true on 200, false on 404), for an upload
    /// whose lookup did not happen (forced steps, <c>Write</c> mode): an entry is put only where there is none.
    /// </summary>
    /// <exception cref="RemoteCacheException">The request failed for good (any other status included).</exception>
    public Task<bool> HasEntryAsync(string key, CancellationToken cancellationToken) =>
        SendAsync($"ac/{key}", _options.RequestTimeout, async token =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, $"ac/{key}");
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
            return response.StatusCode != HttpStatusCode.NotFound && Ensure(response, HttpStatusCode.OK) is not null;
        }, cancellationToken);

    private static RemoteEntryTooLargeException TooLarge(string key) =>
        new(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ac/{key}: entry larger than {MaxEntryBytes} bytes, the most this version reads"));

    /// <summary>The body, or null when it has more than <paramref name="limit"/> bytes (no more than limit + 1 are read).</summary>
    private static async Task<byte[]?> ReadAtMostAsync(HttpContent content, int limit, CancellationToken token)
    {
        var stream = await content.ReadAsStreamAsync(token).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[1 << 16];
            int read;
            while ((read = await stream.ReadAsync(chunk, token).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }

            return buffer.ToArray();
        }
    }

    /// <summary>Whether a body is a JSON object with a numeric <c>format</c>: an entry of some format, valid or not.</summary>
    private static bool IsEntryShaped(byte[] body)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(body);
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && document.RootElement.TryGetProperty("format", out var format) && format.ValueKind == System.Text.Json.JsonValueKind.Number;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static string NotAnEntry(HttpResponseMessage response) =>
        $"HTTP 200 with a body that is not a cache entry ({response.Content.Headers.ContentType?.MediaType ?? "no content type"}): a login page or a proxy's answer?";

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

            if (Ensure(response, HttpStatusCode.OK).Content.Headers.ContentLength is { } length && length != size)
            {
                return ObjectDownload.Mismatch;
            }

            var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                return await objects.AddVerifiedAsync(body, hash, size, mode, token, sha256).ConfigureAwait(false) ? ObjectDownload.Stored : ObjectDownload.Mismatch;
            }
        }, cancellationToken);

    /// <summary>
    /// HEAD <c>cas/{hash}</c>: whether the server has the object (objects are never overwritten): only a 200 whose
    /// Content-Length is the object's <paramref name="size"/> counts (a server answering 200 to everything has nothing).
    /// </summary>
    /// <exception cref="RemoteCacheException">The request failed for good.</exception>
    public Task<bool> HasObjectAsync(string hash, long size, CancellationToken cancellationToken) =>
        SendAsync($"cas/{hash}", _options.RequestTimeout, async token =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, $"cas/{hash}");
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
            return response.StatusCode != HttpStatusCode.NotFound && Ensure(response, HttpStatusCode.OK).Content.Headers.ContentLength == size;
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
            Ensure(response, HttpStatusCode.OK, HttpStatusCode.Created, HttpStatusCode.NoContent);
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
            Ensure(response, HttpStatusCode.OK, HttpStatusCode.Created, HttpStatusCode.NoContent);
            return true;
        }, cancellationToken);

    /// <summary>The longest time limit of one request, whatever size a manifest claims (Polly's own maximum).</summary>
    public static readonly TimeSpan MaxRequestTimeout = TimeSpan.FromDays(1);

    /// <summary>The time limit of a request carrying <paramref name="bytes"/>, at most <see cref="MaxRequestTimeout"/>.</summary>
    internal TimeSpan TimeFor(long bytes)
    {
        var seconds = _options.RequestTimeout.TotalSeconds + Math.Max(0, (double)bytes) / Math.Max(1, _options.MinimumBytesPerSecond);
        return seconds >= MaxRequestTimeout.TotalSeconds ? MaxRequestTimeout : TimeSpan.FromSeconds(seconds);
    }

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
            if (kind == RemoteFailureKind.Timeout)
            {
                // A timeout means the server is not answering: every further request would wait as long.
                await _isolate.IsolateAsync(CancellationToken.None).ConfigureAwait(false);
            }

            throw new RemoteCacheException(kind, why, e) { CircuitOpen = kind == RemoteFailureKind.Timeout };
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
            status.Detail is { } detail ? $"{path}: {detail}" : $"{path}: HTTP {(int)status.Status} {status.Status}"),
        HttpRequestException or HttpIOException => (RemoteFailureKind.Unreachable, $"{path}: {e.Message}"),
        _ => null,
    };

    /// <summary>The response when its status is one of <paramref name="expected"/>; any other (a 3xx included: redirects are not followed) fails.</summary>
    private static HttpResponseMessage Ensure(HttpResponseMessage response, params ReadOnlySpan<HttpStatusCode> expected) =>
        expected.Contains(response.StatusCode) ? response : throw new StatusException(response.StatusCode);

    /// <summary>An answer other than the expected ones or 404; 5xx (and 429) are worth a retry.</summary>
    private sealed class StatusException(HttpStatusCode status, string? detail = null) : Exception(detail ?? $"HTTP {(int)status}")
    {
        public HttpStatusCode Status { get; } = status;

        /// <summary>What was wrong with an expected status (a 200 that is not an entry), or null: the status itself.</summary>
        public string? Detail { get; } = detail;

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
