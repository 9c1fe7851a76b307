using System.Net;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public sealed class SetBackendServicePolicyTests : IAsyncLifetime
{
    private const string Operation = "/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Theory]
    [InlineData("aoai-japaneast-gpt-4o", "/japan")]
    [InlineData("aoai-eastus2-gpt-4o", "/openai")]
    [Covers("set-backend-service", "backend-id")]
    public async Task SetBackendService_BackendId_SendsToThatBackendsUrl(string backendId, string prefix)
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-backend-service backend-id="@(context.Request.Headers.GetValueOrDefault("x-backend-id", ""))" />
              </inbound>
              <backend>
                <forward-request buffer-response="false" />
              </backend>
            </policies>
            """);
        using var gateway = new GatewayFactory(apim, _backend.Url);
        using var factory = gateway.WithWebHostBuilder(builder => builder.UseSetting("Apim:Backends:aoai-japaneast-gpt-4o:Url", _backend.Url + "/japan"));

        using var response = await SendAsync(factory.CreateClient(), backendId);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(prefix + Operation, Assert.Single(_backend.Requests).PathAndQuery);
    }

    [Fact]
    [Covers("set-backend-service", "base-url")]
    public async Task SetBackendService_BaseUrl_SendsToThatUrlFollowedByTheOperationPath()
    {
        using var apim = new TestApim($$"""
            <policies>
              <inbound>
                <set-backend-service base-url="{{_backend.Url}}/custom/openai" />
              </inbound>
              <backend>
                <forward-request buffer-response="false" />
              </backend>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9");

        using var response = await SendAsync(factory.CreateClient(), null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/custom/openai" + Operation, Assert.Single(_backend.Requests).PathAndQuery);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string? backendId) =>
        client.PostChatAsync("/openai" + Operation, headers: backendId is null ? null : [("x-backend-id", backendId)]);
}
