using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public sealed class RewriteUriPolicyTests : IAsyncLifetime
{
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Theory]
    [InlineData("""<rewrite-uri template="/deployments/{deployment-id}/embeddings" />""", "/openai/deployments/gpt-4o/embeddings?api-version=2024-10-21&trace=1")]
    [InlineData("""<rewrite-uri template="/deployments/{deployment-id}/embeddings" copy-unmatched-params="false" />""", "/openai/deployments/gpt-4o/embeddings")]
    [InlineData("""<rewrite-uri template="/v2/{deployment-id}?version={api-version}" copy-unmatched-params="true" />""", "/openai/v2/gpt-4o?version=2024-10-21&trace=1")]
    [InlineData("""<rewrite-uri template="@("/x/" + context.Request.MatchedParameters["deployment-id"].ToUpperInvariant())" copy-unmatched-params="false" />""", "/openai/x/GPT-4O")]
    [Covers("rewrite-uri", "template", "copy-unmatched-params")]
    public async Task RewriteUri_ChangesThePathAndQueryTheBackendSees(string rewrite, string expected)
    {
        using var apim = new TestApim($$"""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
                {{rewrite}}
              </inbound>
              <backend>
                <forward-request buffer-response="false" />
              </backend>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var response = await factory.CreateClient().PostChatAsync("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21&trace=1");

        Assert.Equal(expected, Assert.Single(_backend.Requests).PathAndQuery);
    }
}
