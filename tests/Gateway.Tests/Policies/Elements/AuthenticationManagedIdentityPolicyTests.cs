using System.Net;
using Gateway.Identity;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Tests.Policies.Elements;

public sealed class AuthenticationManagedIdentityPolicyTests : IAsyncLifetime
{
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    [Covers("authentication-managed-identity", "resource", "client-id")]
    public async Task ManagedIdentity_WithoutOutputVariable_SendsTheTokenAsBearerAuthorization()
    {
        using var response = await SendAsync("""<authentication-managed-identity resource="https://storage.azure.com/" client-id="user-assigned-1" />""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_backend.Requests);
        Assert.StartsWith("Bearer ", received.Headers["Authorization"], StringComparison.Ordinal);
        var token = new JsonWebToken(received.Headers["Authorization"]["Bearer ".Length..]);
        Assert.Equal(["https://storage.azure.com/"], token.Audiences);
        Assert.Equal("user-assigned-1", token.GetClaim("appid").Value);
    }

    [Fact]
    [Covers("authentication-managed-identity", "output-token-variable-name")]
    public async Task ManagedIdentity_WithOutputVariable_StoresTheTokenAndLeavesAuthorizationAlone()
    {
        using var response = await SendAsync("""
            <authentication-managed-identity resource="https://cognitiveservices.azure.com" output-token-variable-name="msi" />
            <set-header name="x-token" exists-action="override"><value>@((string)context.Variables["msi"])</value></set-header>
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_backend.Requests);
        Assert.False(received.Headers.ContainsKey("Authorization"));
        Assert.Equal(["https://cognitiveservices.azure.com"], new JsonWebToken(received.Headers["x-token"]).Audiences);
    }

    [Fact]
    [Covers("authentication-managed-identity", "resource", "output-token-variable-name")]
    public async Task ManagedIdentity_InOutbound_StoresTheTokenForTheResponse()
    {
        // The reference lists inbound only; Microsoft's deployed samples get a token in outbound (docs/fidelity.md).
        using var response = await SendAsync(
            inbound: string.Empty,
            outbound: """
                <authentication-managed-identity resource="https://monitor.azure.com/" output-token-variable-name="ingest" ignore-error="true" />
                <set-header name="x-token" exists-action="override"><value>@((string)context.Variables["ingest"])</value></set-header>
                """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["https://monitor.azure.com/"], new JsonWebToken(response.Headers.GetValues("x-token").Single()).Audiences);
        Assert.False(Assert.Single(_backend.Requests).Headers.ContainsKey("Authorization"));
    }

    [Theory]
    [InlineData("true", 200, 1, null)]
    [InlineData("false", 503, 0, "authentication-managed-identity|ManagedIdentityTokenFailure")]
    [Covers("authentication-managed-identity", "ignore-error")]
    public async Task ManagedIdentity_TokenFailure_ContinuesOnlyWhenIgnoringErrors(string ignoreError, int status, int forwarded, string? error)
    {
        using var response = await SendAsync(
            $"""<authentication-managed-identity resource="https://cognitiveservices.azure.com" ignore-error="{ignoreError}" />""",
            services => services.AddSingleton<IManagedIdentityTokenProvider>(new UnreachableIdentity()));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(forwarded, _backend.Requests.Count);
        Assert.All(_backend.Requests, r => Assert.False(r.Headers.ContainsKey("Authorization")));
        Assert.Equal(error, response.Headers.TryGetValues("x-error", out var values) ? values.Single() : null);
    }

    private async Task<HttpResponseMessage> SendAsync(string inbound, Action<IServiceCollection>? services = null, string outbound = "")
    {
        using var apim = new TestApim(TestPolicy.With(
            TestPolicy.ToEastUs2 + inbound,
            TestPolicy.ForwardUnbuffered,
            outbound,
            TestPolicy.AnswerWithError(503, "No token")));
        using var factory = new GatewayFactory(apim, _backend.Url, testServices: services);
        return await factory.CreateClient().PostChatAsync();
    }
}
