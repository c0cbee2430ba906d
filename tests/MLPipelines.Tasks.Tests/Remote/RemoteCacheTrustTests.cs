using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using MLPipelines.Engine;
using MLPipelines.Engine.Configuration;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Hashing;
using MLPipelines.Engine.Remote;
using MLPipelines.Engine.Store;
using MLPipelines.Tasks.Tests.TestKit;
using MLPipelines.Testing;

namespace MLPipelines.Tasks.Tests.Remote;

/// <summary>
/// Signed entries (issue 10 §2) and credentials: with a signing key only entries signed with it are restored; Basic
/// auth works with the environment's credentials and warns without them, never showing them.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class RemoteCacheTrustTests : IDisposable
{
    private readonly PipelineHarness _first = new();
    private readonly PipelineHarness _second = new();

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
    }

    private static Func<PipelineOptions, PipelineOptions> With(string url, Dictionary<string, string>? environment = null, string mode = "ReadWrite") =>
        o => o with { RemoteCache = RemoteCacheTests.Remote(url, mode, environment) };

    private static Dictionary<string, string> Signed(string key) => new() { [RemoteCacheOptions.SigningKeyVariable] = key };

    private static PipelineHarness Declare(PipelineHarness pipeline)
    {
        pipeline.Step("produce", "mkdir -p out && date +%s%N > out/stamp.txt", ("Outputs", "out/"));
        return pipeline;
    }

    [NginxFact]
    public async Task WithASigningKeyAnEntrySignedWithItIsRestored()
    {
        using var server = NginxServer.Start();
        await Declare(_first).RunAsync(With(server.BaseUrl, Signed("main-branch-key")));

        var second = await Declare(_second).RunAsync(With(server.BaseUrl, Signed("main-branch-key")));

        second.AssertOutcome("produce", StepOutcome.Cached).AssertNoDiagnostics();
        Assert.True(second["produce"].Remote);
        Assert.Equal(_first.Project.Read("out/stamp.txt"), _second.Project.Read("out/stamp.txt"));

        // The signed part names every object's SHA-256 as well as its XxHash128.
        var (_, body) = ReadEntry(server, second["produce"].Key!);
        var hash = _first.OpenStoreEntry(second["produce"].Key!).Manifest.Single().Hash;
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(server.DataDirectory, "cas", hash)))), (string?)body["sha256"]![hash]);
    }

    private static PipelineHarness DeclareTalking(PipelineHarness pipeline)
    {
        pipeline.Step("talk", "echo 'epoch 1: loss 0.52' && mkdir -p out && printf t > out/t.txt", ("Outputs", "out/"));
        return pipeline;
    }

    [Fact]
    public async Task TheKeptLogTravelsWithASignedEntryAndItsSha256IsSigned()
    {
        using var server = NginxServer.Start();
        await DeclareTalking(_first).RunAsync(With(server.BaseUrl, Signed("main-branch-key")));

        var second = await DeclareTalking(_second).RunAsync(o => With(server.BaseUrl, Signed("main-branch-key"))(o) with { ReplayLogs = true });

        second.AssertOutcome("talk", StepOutcome.Cached).AssertNoDiagnostics();
        Assert.True(second["talk"].Remote);
        Assert.Equal(["epoch 1: loss 0.52"], second.Log.LinesOf("talk"));
        var key = second["talk"].Key!;
        var log = _first.OpenStoreEntry(key).LogHash!;
        var (_, body) = ReadEntry(server, key);
        Assert.Equal(log, (string?)body["logHash"]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(server.DataDirectory, "cas", log)))), (string?)body["sha256"]![log]);
        Assert.Equal(log, _second.OpenStoreEntry(key).LogHash);
    }

    [Fact]
    public async Task AnAlteredLogObjectIsNeverStoredAndTheHitStandsWithoutIt()
    {
        using var server = NginxServer.Start();
        await DeclareTalking(_first).RunAsync(With(server.BaseUrl, Signed("main-branch-key")));
        string log;
        using (var store = _first.OpenStore())
        {
            log = store.AllEntries().Single().LogHash!;
        }

        var path = Path.Combine(server.DataDirectory, "cas", log);
        var altered = File.ReadAllBytes(path);
        altered[0] ^= 1; // Same size, other content.
        File.WriteAllBytes(path, altered);

        var second = await DeclareTalking(_second).RunAsync(o => With(server.BaseUrl, Signed("main-branch-key"))(o) with { ReplayLogs = true });

        second.AssertOutcome("talk", StepOutcome.Cached).AssertNoDiagnostics();
        Assert.Empty(second.Log.LinesOf("talk"));
        Assert.Null(_second.OpenStoreEntry(second["talk"].Key!).LogHash);
        using var secondStore = _second.OpenStore();
        Assert.False(secondStore.Objects.Contains(log));
    }

    [Fact]
    public async Task ASignedEntryWhoseLogHasNoSha256IsRefused()
    {
        using var server = NginxServer.Start();
        var first = await DeclareTalking(_first).RunAsync(With(server.BaseUrl, Signed("main-branch-key")));
        var key = first["talk"].Key!;
        var (document, body) = ReadEntry(server, key);
        body["sha256"]!.AsObject().Remove((string)body["logHash"]!);
        WriteSigned(server, key, document, body, "main-branch-key");

        var second = await DeclareTalking(_second).RunAsync(With(server.BaseUrl, Signed("main-branch-key")));

        second.AssertOutcome("talk", StepOutcome.Executed);
        Assert.Contains("SHA-256", second.SingleWarning(ErrorCodes.RemoteEntryNotSigned).Message, StringComparison.Ordinal);
    }

    /// <summary>The document at <c>ac/{key}</c> and its entry (the signed text), parsed.</summary>
    private static (JsonObject Document, JsonObject Body) ReadEntry(NginxServer server, string key)
    {
        var document = JsonNode.Parse(File.ReadAllText(Path.Combine(server.DataDirectory, "ac", key)))!.AsObject();
        return (document, JsonNode.Parse((string)document["entry"]!)!.AsObject());
    }

    /// <summary>Writes <paramref name="body"/> back as the entry at <c>ac/{key}</c>, signed with <paramref name="signingKey"/> as a key holder would.</summary>
    private static void WriteSigned(NginxServer server, string key, JsonObject document, JsonObject body, string signingKey)
    {
        var text = body.ToJsonString();
        document["entry"] = text;
        document["signature"] = RemoteEntry.Sign(Encoding.UTF8.GetBytes(signingKey), key, text);
        File.WriteAllText(Path.Combine(server.DataDirectory, "ac", key), document.ToJsonString());
    }

    [NginxFact]
    public async Task WithASigningKeyAnEntrySignedWithoutObjectDigestsIsRefused()
    {
        using var server = NginxServer.Start();
        var first = await Declare(_first).RunAsync(With(server.BaseUrl, Signed("k")));
        var key = first["produce"].Key!;
        var (document, body) = ReadEntry(server, key);
        Assert.True(body.Remove("sha256"));
        WriteSigned(server, key, document, body, "k"); // A valid signature over an entry without digests.

        var second = await Declare(_second).RunAsync(With(server.BaseUrl, Signed("k")));

        second.AssertOutcome("produce", StepOutcome.Executed);
        var warning = Assert.Single(second.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteEntryNotSigned, warning.Code);
        Assert.Equal("produce", warning.Step);
        Assert.Contains("SHA-256", warning.Message, StringComparison.Ordinal);
        Assert.NotEqual(_first.Project.Read("out/stamp.txt"), _second.Project.Read("out/stamp.txt"));
    }

    /// <summary>
    /// An XxHash128 collision, simulated: the server's object matches its name (and size), but not the SHA-256 the
    /// signer recorded (that of other bytes of the same size). With the key, it is never stored or restored.
    /// </summary>
    [NginxFact]
    public async Task WithASigningKeyAnObjectWhoseSha256DiffersFromTheSignedOneIsRefusedAsTampered()
    {
        using var server = NginxServer.Start();
        var first = await Declare(_first).RunAsync(With(server.BaseUrl, Signed("k")));
        var key = first["produce"].Key!;
        var hash = _first.OpenStoreEntry(key).Manifest.Single().Hash;
        var onServer = File.ReadAllBytes(Path.Combine(server.DataDirectory, "cas", hash));
        var other = (byte[])onServer.Clone();
        other[0] ^= 0xFF;
        var (document, body) = ReadEntry(server, key);
        body["sha256"]![hash] = Convert.ToHexStringLower(SHA256.HashData(other));
        WriteSigned(server, key, document, body, "k");

        var second = await Declare(_second).RunAsync(With(server.BaseUrl, Signed("k")));

        second.AssertOutcome("produce", StepOutcome.Executed);
        var warning = Assert.Single(second.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteObjectTampered, warning.Code);
        Assert.Contains(hash, warning.Message, StringComparison.Ordinal);
        Assert.NotEqual(_first.Project.Read("out/stamp.txt"), _second.Project.Read("out/stamp.txt"));
        using var store = _second.OpenStore();
        Assert.False(store.Objects.Contains(hash));
        Assert.NotEqual(hash, store.FindEntry(key)!.Manifest.Single().Hash); // The step's own fresh result.
    }

    /// <summary>
    /// The download's verification itself: bytes whose XxHash128 and size are right but whose SHA-256 is not the
    /// expected one (a crafted collision) are refused and not stored; the right SHA-256 stores them.
    /// </summary>
    [Fact]
    public async Task AnObjectWithTheRightXxHash128ButAnotherSha256IsNotStored()
    {
        using var root = new TempDirectory();
        var objects = new ObjectStore(root.Combine("objects"));
        var content = Encoding.UTF8.GetBytes("the signer's object content\n");
        var hash = Convert.ToHexStringLower(System.IO.Hashing.XxHash128.Hash(content));
        var sameSizeOther = (byte[])content.Clone();
        sameSizeOther[0] ^= 0xFF;

        using (var stream = new MemoryStream(content))
        {
            Assert.False(await objects.AddVerifiedAsync(stream, hash, content.Length, (UnixFileMode)0b110_100_100, CancellationToken.None,
                Convert.ToHexStringLower(SHA256.HashData(sameSizeOther))));
        }

        Assert.False(objects.Contains(hash));

        using (var stream = new MemoryStream(content))
        {
            Assert.True(await objects.AddVerifiedAsync(stream, hash, content.Length, (UnixFileMode)0b110_100_100, CancellationToken.None,
                Convert.ToHexStringLower(SHA256.HashData(content))));
        }

        Assert.True(objects.Contains(hash));
        Assert.Equal(content, File.ReadAllBytes(objects.PathOf(hash)));
    }

    [NginxFact]
    public async Task WithASigningKeyAnUnsignedEntryIsRefused()
    {
        using var server = NginxServer.Start();
        await Declare(_first).RunAsync(With(server.BaseUrl)); // No key: uploaded unsigned.

        var second = await Declare(_second).RunAsync(With(server.BaseUrl, Signed("main-branch-key")));

        second.AssertOutcome("produce", StepOutcome.Executed);
        var warning = Assert.Single(second.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteEntryNotSigned, warning.Code);
        Assert.Equal("produce", warning.Step);
        Assert.Contains("not signed", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("main-branch-key", second.Log.ToString(), StringComparison.Ordinal);
        Assert.NotEqual(_first.Project.Read("out/stamp.txt"), _second.Project.Read("out/stamp.txt"));
    }

    [NginxFact]
    public async Task WithASigningKeyAnEntrySignedWithAnotherKeyIsRefused()
    {
        using var server = NginxServer.Start();
        await Declare(_first).RunAsync(With(server.BaseUrl, Signed("a-fork's-key")));

        var second = await Declare(_second).RunAsync(With(server.BaseUrl, Signed("main-branch-key")));

        second.AssertOutcome("produce", StepOutcome.Executed);
        var warning = Assert.Single(second.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteEntryNotSigned, warning.Code);
        Assert.Contains("signature does not match", warning.Message, StringComparison.Ordinal);
    }

    [NginxFact]
    public async Task ASignedEntryWhoseManifestWasEditedIsRefused()
    {
        using var server = NginxServer.Start();
        var first = await Declare(_first).RunAsync(With(server.BaseUrl, Signed("k")));
        var path = Path.Combine(server.DataDirectory, "ac", first["produce"].Key!);
        // The entry's JSON string is the signed text: swap the file's path inside it, keeping the old signature.
        File.WriteAllText(path, File.ReadAllText(path).Replace("out/stamp.txt", "out/stamq.txt", StringComparison.Ordinal));

        var second = await Declare(_second).RunAsync(With(server.BaseUrl, Signed("k")));

        second.AssertOutcome("produce", StepOutcome.Executed);
        Assert.Equal(ErrorCodes.RemoteEntryNotSigned, Assert.Single(second.Log.Warnings).Code);
        Assert.False(_second.Project.Exists("out/stamq.txt"));
    }

    [NginxFact]
    public async Task StepsKeyedByEnvironmentValuesAreSharedOnlyWithASigningKey()
    {
        using var server = NginxServer.Start();
        foreach (var pipeline in new[] { _first, _second })
        {
            pipeline.Step("env", "mkdir -p out && date +%s%N > out/stamp.txt", ("Outputs", "out/"), ("Environment", "MODE=fast"));
        }

        // Each store hashes environment values with its own secret: without a signing key the keys differ, so
        // nothing is looked up or uploaded (a detail line says why).
        var unsigned = await _first.RunAsync(With(server.BaseUrl));
        Assert.Equal(0, unsigned.Result.RemoteUploads);
        Assert.Contains(unsigned.Log.Details, d => d.Contains(RemoteCacheOptions.SigningKeyVariable, StringComparison.Ordinal));
        Assert.Empty(server.StoredFiles());

        await _first.RunAsync(With(server.BaseUrl, Signed("k")));
        var second = await _second.RunAsync(With(server.BaseUrl, Signed("k")));
        second.AssertOutcome("env", StepOutcome.Cached).AssertNoDiagnostics();
        Assert.True(second["env"].Remote);
    }

    [NginxFact]
    public async Task BasicAuthWorksWithTheEnvironmentsCredentialsAndWarnsWithoutThem()
    {
        using var server = NginxServer.Start("ci", "s3cret-pass");
        var credentials = new Dictionary<string, string>
        {
            [RemoteCacheOptions.UserVariable] = "ci",
            [RemoteCacheOptions.PasswordVariable] = "s3cret-pass",
        };

        var without = await Declare(_first).RunAsync(With(server.BaseUrl));
        without.AssertOutcome("produce", StepOutcome.Executed);
        var warning = Assert.Single(without.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteAuthFailed, warning.Code);
        Assert.Contains(RemoteCacheOptions.UserVariable, warning.Message, StringComparison.Ordinal);
        Assert.Empty(server.StoredFiles());

        await Declare(_first).RunAsync(o => With(server.BaseUrl, credentials)(o) with { ForcedSteps = ["*"] });
        Assert.NotEmpty(server.StoredFiles());
        var second = await Declare(_second).RunAsync(With(server.BaseUrl, credentials));
        second.AssertOutcome("produce", StepOutcome.Cached).AssertNoDiagnostics();
        Assert.DoesNotContain("s3cret-pass", second.Log.ToString() + string.Join('\n', second.Log.Details), StringComparison.Ordinal);

        using var third = new PipelineHarness();
        var wrong = await Declare(third).RunAsync(With(server.BaseUrl, new() { [RemoteCacheOptions.UserVariable] = "ci", [RemoteCacheOptions.PasswordVariable] = "guess" }));
        var refused = Assert.Single(wrong.Log.Warnings);
        Assert.Equal(ErrorCodes.RemoteAuthFailed, refused.Code);
        Assert.DoesNotContain("guess", refused.Message, StringComparison.Ordinal);
    }
}
