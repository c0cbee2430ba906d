using System.Runtime.Versioning;
using System.Text;
using MLPipelines.Engine.Execution;
using MLPipelines.Engine.Hashing;
using MLPipelines.Tasks.Tests.TestKit;

namespace MLPipelines.Tasks.Tests.Execution;

/// <summary>
/// What the store keeps of a step's secrets, read the way an attacker would: the raw bytes of <c>cache.db</c> (and
/// its WAL), and everything the run logged.
/// </summary>
[UnsupportedOSPlatform("windows")] // The commands are POSIX shell.
public sealed class StoreSecrecyTests : IDisposable
{
    private readonly PipelineHarness _pipeline = new();

    public void Dispose() => _pipeline.Dispose();

    private byte[] DatabaseBytes() =>
        [.. Directory.EnumerateFiles(_pipeline.CacheDirectory, "cache.db*").SelectMany(File.ReadAllBytes)];

    private static bool Holds(byte[] haystack, string text) => haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    [Fact]
    public async Task AnEnvironmentValueAndItsPlainHashAreNowhereInTheStoreOrTheLog()
    {
        var token = "tok" + Guid.NewGuid().ToString("N")[..8];
        var rotated = "tok" + Guid.NewGuid().ToString("N")[..8];
        _pipeline.Step("publish", "printf '%s' \"${#API_TOKEN}\" > out.txt", ("Outputs", "out.txt"), ("Environment", "API_TOKEN=" + token));

        var first = await _pipeline.RunAsync();
        var second = await _pipeline.RunAsync();
        _pipeline.Step("publish", "printf '%s' \"${#API_TOKEN}\" > out.txt", ("Outputs", "out.txt"), ("Environment", "API_TOKEN=" + rotated));
        var third = await _pipeline.RunAsync();

        first.AssertOutcome("publish", StepOutcome.Executed).AssertNoDiagnostics();
        second.AssertOutcome("publish", StepOutcome.Cached);
        third.AssertOutcome("publish", StepOutcome.Executed);
        Assert.Equal("step environment API_TOKEN changed", third["publish"].MissReason);

        var database = DatabaseBytes();
        Assert.True(Holds(database, "API_TOKEN"), "The test reads the wrong bytes: the variable's name should be there.");
        foreach (var value in new[] { token, rotated })
        {
            Assert.False(Holds(database, value), $"cache.db holds the value {value}.");
            Assert.False(Holds(database, ContentHash.OfText(value)), $"cache.db holds the plain XxHash128 of {value}.");
            foreach (var log in new[] { first, second, third }.Select(r => r.Log + "\n" + string.Join('\n', r.Log.Details)))
            {
                Assert.DoesNotContain(value, log, StringComparison.Ordinal);
                Assert.DoesNotContain(ContentHash.OfText(value), log, StringComparison.Ordinal);
            }
        }
    }
}
