using MLPipelines.Engine;
using MLPipelines.Engine.Remote;

namespace MLPipelines.Tasks.Tests.Remote;

/// <summary><c>PipelineRemoteCache</c> and <c>PipelineRemoteCacheMode</c>: off when empty, configuration errors naming the property, credentials never shown.</summary>
public sealed class RemoteCacheOptionsTests
{
    private static (RemoteCacheOptions? Options, List<PipelineDiagnostic> Diagnostics) Parse(string? url, string? mode = null, Dictionary<string, string>? environment = null)
    {
        var diagnostics = new List<PipelineDiagnostic>();
        return (RemoteCacheOptions.Parse(url, mode, name => environment?.GetValueOrDefault(name), diagnostics), diagnostics);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void AnEmptyUrlMeansNoRemoteCache(string? url)
    {
        var (options, diagnostics) = Parse(url, "Nonsense");
        Assert.Null(options);
        Assert.Empty(diagnostics);
    }

    [Theory]
    [InlineData("cache.example.com/pipelines")]
    [InlineData("ftp://cache.example.com/pipelines")]
    [InlineData("file:///srv/cache")]
    [InlineData("https://cache.example.com/p?x=1")]
    public void AnythingButABareHttpUrlIsMLP1030(string url)
    {
        var (options, diagnostics) = Parse(url);
        Assert.Null(options);
        Assert.Equal(ErrorCodes.InvalidRemoteCacheUrl, Assert.Single(diagnostics).Code);
        Assert.Contains("PipelineRemoteCache", diagnostics[0].Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://host/x?token=abc", "'http://host/x?…'")]
    [InlineData("https://cache.example.com/p#token=abc", "'https://cache.example.com/p#…'")]
    [InlineData("ftp://host/x?token=abc", "'ftp://host/x?…'")]
    [InlineData("host/x?token=abc#more", "'host/x?…'")]
    public void MLP1030DoesNotRepeatAQueryOrFragment(string url, string shown)
    {
        var (options, diagnostics) = Parse(url);
        Assert.Null(options);
        var error = Assert.Single(diagnostics);
        Assert.Equal(ErrorCodes.InvalidRemoteCacheUrl, error.Code);
        Assert.Contains($"PipelineRemoteCache={shown}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("abc", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://ci:hunter2@cache.example.com/p")]
    [InlineData("ci:hunter2@cache example/p")]
    public void AnInvalidUrlWithCredentialsIsNotRepeated(string url)
    {
        var (_, diagnostics) = Parse(url);
        Assert.Equal(ErrorCodes.InvalidRemoteCacheUrl, Assert.Single(diagnostics).Code);
        Assert.DoesNotContain("hunter2", diagnostics[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AUrlWithCredentialsIsRefusedWithoutRepeatingThem()
    {
        var (options, diagnostics) = Parse("https://ci:hunter2@cache.example.com/p");
        Assert.Null(options);
        Assert.Equal(ErrorCodes.InvalidRemoteCacheUrl, Assert.Single(diagnostics).Code);
        Assert.DoesNotContain("hunter2", diagnostics[0].Message, StringComparison.Ordinal);
        Assert.Contains(RemoteCacheOptions.TokenVariable, diagnostics[0].Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ReadOnly")]
    [InlineData("1")]
    [InlineData("Read,Write")]
    public void AnUnknownModeIsMLP1031(string mode)
    {
        var (_, diagnostics) = Parse("https://cache.example.com/p", mode);
        Assert.Equal(ErrorCodes.InvalidRemoteCacheMode, Assert.Single(diagnostics).Code);
    }

    [Fact]
    public void ABadUrlAndABadModeAreBothReported()
    {
        var (options, diagnostics) = Parse("ftp://x/y", "Nope");
        Assert.Null(options);
        Assert.Equal([ErrorCodes.InvalidRemoteCacheUrl, ErrorCodes.InvalidRemoteCacheMode], diagnostics.Select(d => d.Code).Order());
    }

    [Theory]
    [InlineData("read", RemoteCacheMode.Read)]
    [InlineData("Write", RemoteCacheMode.Write)]
    [InlineData("", RemoteCacheMode.ReadWrite)]
    public void ModesAreReadByName(string mode, RemoteCacheMode expected) =>
        Assert.Equal(expected, Parse("http://127.0.0.1:8080/cache", mode).Options!.Mode);

    [Fact]
    public void TheBaseUrlEndsInASlashAndCredentialsComeFromTheEnvironmentButNeverShow()
    {
        var (options, _) = Parse("https://cache.example.com/pipelines", null, new()
        {
            [RemoteCacheOptions.TokenVariable] = "tok-secret",
            [RemoteCacheOptions.SigningKeyVariable] = "sign-secret",
        });

        Assert.Equal("https://cache.example.com/pipelines/", options!.BaseUrl.ToString());
        Assert.Equal("tok-secret", options.Token);
        Assert.NotNull(options.SharedEnvironmentSecret);
        Assert.DoesNotContain("secret", options.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("secret", new Engine.Configuration.PipelineOptions { PipelineName = "p", ProjectDirectory = "/p", CacheDirectory = "/c", RemoteCache = options }.ToString(), StringComparison.Ordinal);
    }
}
