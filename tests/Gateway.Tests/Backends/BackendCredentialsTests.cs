using System.Net;
using Gateway.Apim;
using Gateway.Apim.Model;
using Gateway.Backends;
using Gateway.Identity;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Tests.Backends;

/// <summary>
/// A backend's <c>credentials</c> (apim/topology.json, the ARM shape): what the gateway adds to every request it sends
/// that backend, whichever policy chose it. AI-Gateway's labs put the managed-identity login here instead of in the policy.
/// </summary>
public sealed class BackendCredentialsTests : IAsyncLifetime
{
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    public async Task ManagedIdentityCredentials_SendTheIdentitysTokenWithoutAnyPolicyAskingForIt()
    {
        using var response = await SendAsync("""{ "managedIdentity": { "resource": "https://cognitiveservices.azure.com", "clientId": "user-assigned-1" } }""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_backend.Requests);
        Assert.StartsWith("Bearer ", received.Headers["Authorization"], StringComparison.Ordinal);
        var token = new JsonWebToken(received.Headers["Authorization"]["Bearer ".Length..]);
        Assert.Equal(["https://cognitiveservices.azure.com"], token.Audiences);
        Assert.Equal("user-assigned-1", token.GetClaim("appid").Value);
    }

    [Fact]
    public async Task HeaderAndQueryCredentials_WithNamedValues_ReplaceWhatTheClientSent()
    {
        using var response = await SendAsync(
            """{ "header": { "x-functions-key": [ "{{backend-key}}" ], "x-two": [ "a", "b" ] }, "query": { "code": [ "{{backend-key}}" ] } }""",
            query: "&code=from-the-client&kept=1",
            headers: [("x-functions-key", "from-the-client")],
            settings: new Dictionary<string, string> { ["Apim:NamedValues:backend-key"] = "s3cret" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_backend.Requests);
        Assert.Equal("s3cret", received.Headers["x-functions-key"]);
        Assert.Equal("a, b", received.Headers["x-two"]);
        Assert.Contains("code=s3cret", received.PathAndQuery, StringComparison.Ordinal);
        Assert.DoesNotContain("from-the-client", received.PathAndQuery, StringComparison.Ordinal);
        Assert.Contains("kept=1", received.PathAndQuery, StringComparison.Ordinal);
        Assert.Contains("api-version=2024-10-21", received.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthorizationCredentials_SetTheAuthorizationHeaderFromSchemeAndParameter()
    {
        using var response = await SendAsync("""{ "authorization": { "scheme": "Basic", "parameter": "dXNlcjpwYXNz" } }""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Basic dXNlcjpwYXNz", Assert.Single(_backend.Requests).Headers["Authorization"]);
    }

    [Fact]
    public async Task ManagedIdentityCredentials_WithoutAToken_FailTheForwardToOnError()
    {
        using var response = await SendAsync(
            """{ "managedIdentity": { "resource": "https://cognitiveservices.azure.com" } }""",
            services: services => services.AddSingleton<IManagedIdentityTokenProvider>(new UnreachableIdentity()));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Empty(_backend.Requests);
        Assert.Equal("forward-request|ManagedIdentityTokenFailure", response.Headers.GetValues("x-error").Single());
    }

    [Theory]
    [InlineData("""{ "certificateIds": [ "/subscriptions/s/certificates/c" ] }""", "client certificates) are not emulated")]
    [InlineData("""{ "managedIdentity": { "clientId": "x" } }""", "credentials.managedIdentity needs a resource")]
    [InlineData("""{ "authorization": { "parameter": "x" } }""", "credentials.authorization needs a scheme")]
    [InlineData("""{ "header": { "x-key": [] } }""", "credentials.header 'x-key' needs a name and at least one value")]
    public void Load_UnusableCredentials_AreRefusedByName(string credentials, string message)
    {
        using var apim = new TestApim();
        TestTopology.AddBackends(apim, Backend("creds", "https://example.test/openai", credentials));

        var error = Assert.Throws<ApimArtifactException>(() => Topology.Load(apim.Path));
        Assert.Contains("backend 'creds'", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_APoolWithCredentials_IsRefused()
    {
        using var apim = new TestApim();
        TestTopology.AddBackends(apim, """{ "id": "creds-pool", "type": "Pool", "credentials": { "header": { "x": [ "y" ] } }, "pool": { "services": [ { "id": "aoai-eastus2-gpt-4o" } ] } }""");

        var error = Assert.Throws<ApimArtifactException>(() => Topology.Load(apim.Path));
        Assert.Contains("pool 'creds-pool' has credentials", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Credentials_WhoseNamedValueHoldsALineBreak_FailTheLoad()
    {
        using var apim = new TestApim();
        TestTopology.AddBackends(apim, Backend("creds", "https://example.test/openai", """{ "header": { "x-key": [ "{{backend-key}}" ] } }"""));
        var namedValues = new NamedValues(new Dictionary<string, string?> { ["backend-key"] = "a\r\nx-injected: 1" });

        var error = Assert.Throws<ApimArtifactException>(() => BackendRegistry.Create(Topology.Load(apim.Path), new Dictionary<string, BackendOverrideOptions>(), namedValues));
        Assert.Contains("backend 'creds': a credentials value contains a line break", error.Message, StringComparison.Ordinal);
    }

    private static readonly string Policy = TestPolicy.With(
        """<set-backend-service backend-id="creds" />""",
        TestPolicy.ForwardUnbuffered,
        onError: TestPolicy.AnswerWithError(503, "Failed"));

    private static string Backend(string id, string url, string credentials) =>
        $$"""{ "id": "{{id}}", "account": "aoai-eastus2", "url": "{{url}}", "protocol": "http", "credentials": {{credentials}} }""";

    private async Task<HttpResponseMessage> SendAsync(string credentials, string query = "", (string Name, string Value)[]? headers = null, Action<IServiceCollection>? services = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        using var apim = new TestApim(Policy);
        TestTopology.AddBackends(apim, Backend("creds", _backend.Url + "/openai", credentials));
        using var factory = new GatewayFactory(apim, _backend.Url, testServices: services, settings: settings);
        return await factory.CreateClient().PostChatAsync(ChatCalls.ChatPath + query, headers: headers);
    }
}
