using System.Net;
using Azure.Identity;
using Gateway.Identity;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Identity;

/// <summary><c>Identity:Provider</c> chooses the token provider, and the Azure one serves <c>authentication-managed-identity</c> as the local one does.</summary>
public sealed class IdentityProviderTests : IAsyncLifetime, IDisposable
{
    private readonly TestApim _apim = new();
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync().WaitAsync(TestTimeouts.Request);

    public async Task DisposeAsync() => await _backend.DisposeAsync().AsTask().WaitAsync(TestTimeouts.Request);

    public void Dispose() => _apim.Dispose();

    [Theory]
    [InlineData(null, true, typeof(LocalTokenIssuer))]
    [InlineData(null, false, typeof(AzureTokenProvider))]
    [InlineData("local", true, typeof(LocalTokenIssuer))]
    [InlineData("azure", true, typeof(AzureTokenProvider))]
    [InlineData("Azure", false, typeof(AzureTokenProvider))]
    public void Provider_ByConfiguration_IsLocalWhenASigningKeyIsConfiguredUnlessSetOtherwise(string? provider, bool signingKey, Type expected)
    {
        var settings = new Dictionary<string, string>();
        if (provider is not null)
        {
            settings["Identity:Provider"] = provider;
        }

        if (!signingKey)
        {
            settings["LocalIdentity:SigningKey"] = string.Empty;
        }

        using var factory = new GatewayFactory(_apim, _backend.Url, settings: settings);

        Assert.IsType(expected, factory.Services.GetRequiredService<IManagedIdentityTokenProvider>());
    }

    [Fact]
    public void Provider_LocalWithoutSigningKey_StopsTheGatewayAtStart()
    {
        using var factory = new GatewayFactory(_apim, _backend.Url, settings: new Dictionary<string, string> { ["Identity:Provider"] = "local", ["LocalIdentity:SigningKey"] = string.Empty });

        var error = Assert.Throws<OptionsValidationException>(() => factory.Services.GetRequiredService<IManagedIdentityTokenProvider>());

        Assert.Contains(LocalIdentityOptions.MissingKeyMessage, error.Failures);
    }

    [Fact]
    public async Task Azure_ManagedIdentityPolicy_SendsTheCredentialsTokenForTheResourceAndClientIdAndNeverLogsIt()
    {
        var credentials = new FakeCredentialFactory(TimeProvider.System) { TokenPrefix = "eyJ-azure-secret-" };
        using var factory = CreateFactory("""<authentication-managed-identity resource="https://cognitiveservices.azure.com" client-id="{{managed-identity-client-id}}" />""", credentials);
        var client = factory.CreateClient();

        using var first = await client.PostChatAsync();
        using var second = await client.PostChatAsync();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(["test-client-id"], credentials.Created);
        var request = Assert.Single(credentials.Credential("test-client-id").Requests);
        Assert.Equal(["https://cognitiveservices.azure.com/.default"], request.Scopes);
        Assert.All(_backend.Requests, r => Assert.Equal("Bearer eyJ-azure-secret-1", r.Headers["Authorization"]));
        var logs = factory.Services.GetFakeLogCollector().GetSnapshot();
        Assert.NotEmpty(logs);
        Assert.DoesNotContain(logs, r => r.Message.Contains("eyJ-azure-secret-", StringComparison.Ordinal)
            || (r.StructuredState ?? []).Any(p => p.Value?.Contains("eyJ-azure-secret-", StringComparison.Ordinal) == true));
    }

    [Theory]
    [InlineData("true", 200, 1, null)]
    [InlineData("false", 503, 0, "authentication-managed-identity|ManagedIdentityTokenFailure")]
    public async Task Azure_CredentialFails_ContinuesOnlyWhenIgnoringErrors(string ignoreError, int status, int forwarded, string? error)
    {
        var credentials = new FakeCredentialFactory(TimeProvider.System);
        credentials.Failures.Enqueue(new CredentialUnavailableException("DefaultAzureCredential failed to retrieve a token from the included credentials."));
        using var factory = CreateFactory($"""<authentication-managed-identity resource="https://cognitiveservices.azure.com" ignore-error="{ignoreError}" />""", credentials);

        using var response = await factory.CreateClient().PostChatAsync();

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(forwarded, _backend.Requests.Count);
        Assert.All(_backend.Requests, r => Assert.False(r.Headers.ContainsKey("Authorization")));
        Assert.Equal(error, response.Headers.TryGetValues("x-error", out var values) ? values.Single() : null);
        Assert.Equal(new string?[] { null }, credentials.Created);
    }

    private GatewayFactory CreateFactory(string inbound, FakeCredentialFactory credentials)
    {
        File.WriteAllText(_apim.PolicyPath, TestPolicy.With(
            TestPolicy.ToEastUs2 + inbound,
            TestPolicy.ForwardUnbuffered,
            onError: TestPolicy.AnswerWithError(503, "No token")));
        return new GatewayFactory(
            _apim,
            _backend.Url,
            testServices: services =>
            {
                services.AddSingleton<ITokenCredentialFactory>(credentials);
                services.AddFakeLogging();
            },
            settings: new Dictionary<string, string> { ["Identity:Provider"] = "azure" });
    }
}
