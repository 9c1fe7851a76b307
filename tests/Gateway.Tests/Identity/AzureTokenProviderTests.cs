using Azure.Identity;
using Gateway.Identity;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Identity;

public class AzureTokenProviderTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeLogger<AzureTokenProvider> _logger = new();

    [Theory]
    [InlineData("https://cognitiveservices.azure.com", "https://cognitiveservices.azure.com/.default")]
    [InlineData("https://database.windows.net/", "https://database.windows.net//.default")]
    [InlineData("api://0b1e2c3d-aaaa-bbbb-cccc-000000000001", "api://0b1e2c3d-aaaa-bbbb-cccc-000000000001/.default")]
    public async Task GetTokenAsync_Resource_RequestsTheResourcesDefaultScope(string resource, string scope)
    {
        var credentials = new FakeCredentialFactory(_time);
        var provider = new AzureTokenProvider(credentials, _time, _logger);

        var token = await provider.GetTokenAsync(resource, "client-1", CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Request);

        var request = Assert.Single(credentials.Credential("client-1").Requests);
        Assert.Equal([scope], request.Scopes);
        Assert.Equal("token-1", token.Token);
    }

    [Fact]
    public async Task GetTokenAsync_ClientIds_CreatesOneCredentialPerIdentityAndPassesTheClientId()
    {
        var credentials = new FakeCredentialFactory(_time);
        var provider = new AzureTokenProvider(credentials, _time, _logger);

        foreach (var (resource, clientId) in new[] { ("https://a", "client-1"), ("https://b", "client-1"), ("https://a", "client-2"), ("https://a", null), ("https://b", null), ("https://a", "client-1") })
        {
            await provider.GetTokenAsync(resource, clientId, CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Request);
        }

        // The system-assigned identity (no client-id) gets a credential of its own, made with no client id.
        Assert.Equal(new[] { "client-1", "client-2", null }, credentials.Created);
        Assert.Equal(2, credentials.Credential("client-1").Requests.Count);
        Assert.Single(credentials.Credential("client-2").Requests);
        Assert.Equal(2, credentials.Credential(null).Requests.Count);
    }

    [Fact]
    public async Task GetTokenAsync_BeforeTheRefreshPoint_ReturnsTheCachedTokenAndAfterItFetchesANewOne()
    {
        var credentials = new FakeCredentialFactory(_time) { Lifetime = TimeSpan.FromHours(1) };
        var provider = new AzureTokenProvider(credentials, _time, _logger);
        var first = await provider.GetTokenAsync("https://cognitiveservices.azure.com", "client-1", CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Request);

        _time.Advance(TimeSpan.FromHours(1) - AzureTokenProvider.RenewBeforeExpiry - TimeSpan.FromSeconds(1));
        var beforeRefresh = await provider.GetTokenAsync("https://cognitiveservices.azure.com", "client-1", CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Request);
        _time.Advance(TimeSpan.FromSeconds(1));
        var atRefresh = await provider.GetTokenAsync("https://cognitiveservices.azure.com", "client-1", CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Request);

        Assert.Equal(first, beforeRefresh);
        Assert.Equal("token-2", atRefresh.Token);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromHours(1), atRefresh.ExpiresOn);
        Assert.Equal(2, credentials.Credential("client-1").Requests.Count);
    }

    [Fact]
    public async Task GetTokenAsync_ConcurrentFirstRequests_AskTheCredentialOnce()
    {
        var credentials = new FakeCredentialFactory(TimeProvider.System) { Delay = TimeSpan.FromMilliseconds(100) };
        var provider = new AzureTokenProvider(credentials, TimeProvider.System, _logger);

        var tokens = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => provider.GetTokenAsync("https://a", "client-1", CancellationToken.None).AsTask())).WaitAsync(TestTimeouts.Request);

        Assert.All(tokens, t => Assert.Equal("token-1", t.Token));
        Assert.Single(credentials.Credential("client-1").Requests);
    }

    [Fact]
    public async Task GetTokenAsync_CredentialFails_ThrowsManagedIdentityTokenExceptionAndTriesAgainNextTime()
    {
        var credentials = new FakeCredentialFactory(_time);
        credentials.Failures.Enqueue(new CredentialUnavailableException("DefaultAzureCredential failed to retrieve a token from the included credentials."));
        var provider = new AzureTokenProvider(credentials, _time, _logger);

        var error = await Assert.ThrowsAsync<ManagedIdentityTokenException>(() => provider.GetTokenAsync("https://a", "client-1", CancellationToken.None).AsTask()).WaitAsync(TestTimeouts.Request);
        var token = await provider.GetTokenAsync("https://a", "client-1", CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Request);

        Assert.Equal("Azure.Identity could not get a token for scope 'https://a/.default': DefaultAzureCredential failed to retrieve a token from the included credentials.", error.Message);
        Assert.IsType<CredentialUnavailableException>(error.InnerException);
        Assert.Equal("token-2", token.Token);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Level == Microsoft.Extensions.Logging.LogLevel.Warning && r.Message.Contains("https://a/.default", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetTokenAsync_CredentialTimesOutOnItsOwn_ThrowsManagedIdentityTokenException()
    {
        // A cancellation the request did not ask for is a failure the policy handles, not the caller going away.
        var credentials = new FakeCredentialFactory(_time);
        credentials.Failures.Enqueue(new TaskCanceledException("The operation was canceled."));
        var provider = new AzureTokenProvider(credentials, _time, _logger);

        await Assert.ThrowsAsync<ManagedIdentityTokenException>(() => provider.GetTokenAsync("https://a", null, CancellationToken.None).AsTask()).WaitAsync(TestTimeouts.Request);
    }

    [Fact]
    public async Task GetTokenAsync_SuccessAndFailure_NeverLogTheToken()
    {
        var credentials = new FakeCredentialFactory(_time) { TokenPrefix = "eyJ-secret-" };
        credentials.Failures.Enqueue(null);
        credentials.Failures.Enqueue(new AuthenticationFailedException("ManagedIdentityCredential authentication failed."));
        var provider = new AzureTokenProvider(credentials, _time, _logger);

        var token = await provider.GetTokenAsync("https://a", "client-1", CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Request);
        await Assert.ThrowsAsync<ManagedIdentityTokenException>(() => provider.GetTokenAsync("https://b", "client-1", CancellationToken.None).AsTask()).WaitAsync(TestTimeouts.Request);

        var records = _logger.Collector.GetSnapshot();
        Assert.Equal(2, records.Count);
        Assert.All(records, r =>
        {
            Assert.DoesNotContain("eyJ-secret-", r.Message, StringComparison.Ordinal);
            Assert.All(r.StructuredState ?? [], pair => Assert.DoesNotContain("eyJ-secret-", pair.Value ?? string.Empty, StringComparison.Ordinal));
        });
        Assert.StartsWith("eyJ-secret-", token.Token, StringComparison.Ordinal);
    }
}
