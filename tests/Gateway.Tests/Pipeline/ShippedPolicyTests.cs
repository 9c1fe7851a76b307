using System.Net;
using Gateway.Tests.Support;

namespace Gateway.Tests.Pipeline;

/// <summary>The shipped apim/ (its breakers included) on the answers a client sees when a backend fails.</summary>
public sealed class ShippedPolicyTests : IAsyncLifetime, IDisposable
{
    private const string EmbeddingsPath = "/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21";
    private readonly TestApim _apim = new(withBreakers: true);
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    public void Dispose() => _apim.Dispose();

    [Fact]
    public async Task UnreachableBackend_Gets503WithRetryAfter_AndTheNextRequestGoesToAnotherBackend()
    {
        using var factory = new GatewayFactory(_apim, _backend.Url, settings: new Dictionary<string, string> { ["Apim:Backends:aoai-eastus2-gpt-4o:Url"] = "http://127.0.0.1:9/openai" });
        var client = factory.CreateClient();

        using var unreachable = await client.PostChatAsync(body: ChatCalls.OneUserMessage);
        using var next = await client.PostChatAsync(body: ChatCalls.OneUserMessage);

        // East US 2 (priority 1) cannot be reached: its breaker trips on BackendConnectionFailure, the client is told to
        // come back in a second, and then priority 2 serves.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unreachable.StatusCode);
        Assert.Equal("1", unreachable.Headers.GetValues("Retry-After").Single());
        Assert.Contains("\"code\":\"ServiceUnavailable\"", await unreachable.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Single(_backend.Requests);
    }

    [Fact]
    public async Task UnknownDeployment_GetsAzureOpenAIs404()
    {
        using var factory = new GatewayFactory(_apim, _backend.Url);

        using var response = await factory.CreateClient().PostChatAsync("/openai/deployments/gpt-9/chat/completions?api-version=2024-10-21", ChatCalls.OneUserMessage);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.StartsWith("""{"error":{"code":"DeploymentNotFound",""", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_backend.Requests);
    }

    [Fact]
    public async Task TokenLimit_IsPerDeployment_SoChatTokensNeverRefuseEmbeddings()
    {
        // Every answer reports 25 tokens used.
        _backend.Answer = async http =>
        {
            http.Response.ContentType = "application/json";
            await Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(http.Response, """{"object":"chat.completion","usage":{"prompt_tokens":15,"completion_tokens":10,"total_tokens":25}}""");
        };
        using var factory = new GatewayFactory(_apim, _backend.Url, settings: new Dictionary<string, string> { ["Apim:NamedValues:subscription-tokens-per-minute"] = "30" });
        var client = factory.CreateClient();

        using var chat = await client.PostChatAsync(body: ChatCalls.OneUserMessage);
        using var chatAgain = await client.PostChatAsync(body: ChatCalls.OneUserMessage);
        using var embeddings = await client.PostChatAsync(EmbeddingsPath, """{"input":"one two three four five six seven eight nine ten"}""");

        // The first chat used 25 of the subscription's 30 gpt-4o tokens, so the next one (its prompt estimated at 8) is
        // refused; the same subscription's embeddings (10 tokens, which would not fit in what gpt-4o left) have their own 30.
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal((HttpStatusCode)429, chatAgain.StatusCode);
        Assert.Equal(HttpStatusCode.OK, embeddings.StatusCode);
    }
}
