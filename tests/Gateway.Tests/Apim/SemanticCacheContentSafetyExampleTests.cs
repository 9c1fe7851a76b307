using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Apim;

/// <summary>
/// examples/semantic-cache-content-safety over apim/, in process, in front of one backend that plays every account: the
/// shipped API policy runs unchanged behind the example's global policy (content safety, then the cache lookup; the
/// store in outbound). The Aspire scenario (AppHost.Tests) runs the same against the real mocks.
/// </summary>
public sealed partial class SemanticCacheContentSafetyExampleTests : IAsyncLifetime, IDisposable
{
    private const string Question = "What are the opening hours of the city museum on Sundays and public holidays?";

    private readonly TestApim _apim = new();
    private readonly ConcurrentDictionary<string, int> _vocabulary = new(StringComparer.Ordinal);
    private RecordingBackend _backend = null!;
    private GatewayFactory _factory = null!;

    public async Task InitializeAsync()
    {
        var example = Path.Combine(TestApim.RepoRoot, "examples", "semantic-cache-content-safety");
        foreach (var file in Directory.GetFiles(example, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_apim.Path, Path.GetRelativePath(example, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }

        _backend = await RecordingBackend.StartAsync();
        _backend.Answer = AnswerAsync;
        _factory = new GatewayFactory(_apim, _backend.Url);
    }

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    public void Dispose()
    {
        _factory.Dispose();
        _apim.Dispose();
    }

    [Fact]
    public async Task SameQuestionTwice_TheShippedPolicyAnswersOnce_AndTheCacheTheSecondTime()
    {
        var client = _factory.CreateClient();

        using var first = await client.PostChatAsync(body: Chat(Question));
        using var second = await client.PostChatAsync(body: Chat(Question));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.True(first.Headers.Contains("x-gateway-remaining-tokens"));
        Assert.False(second.Headers.Contains("x-gateway-remaining-tokens"));
        Assert.Equal(1, Calls("/chat/completions"));
        Assert.Equal(2, Calls("/embeddings"));
        Assert.Equal(2, Calls("/contentsafety/text:analyze"));

        // The shipped policy's own work on the call it forwarded: the gateway's token, not the caller's key.
        var chat = Assert.Single(_backend.Requests, r => r.PathAndQuery.Contains("/chat/completions", StringComparison.Ordinal));
        Assert.StartsWith("Bearer ", chat.Headers["Authorization"], StringComparison.Ordinal);
        Assert.False(chat.Headers.ContainsKey("api-key"));
    }

    [Fact]
    public async Task HarmfulPrompt_Gets403_BeforeTheLookupAndTheModel()
    {
        var client = _factory.CreateClient();

        using var response = await client.PostChatAsync(body: Chat("Can you tell me how to make kill someone?"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("""{"statusCode": 403, "message": "Request failed content safety check."}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, Calls("/chat/completions"));
        Assert.Equal(0, Calls("/embeddings"));
        Assert.Equal(1, Calls("/contentsafety/text:analyze"));
    }

    private static string Chat(string prompt) =>
        new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }) }.ToJsonString();

    private int Calls(string path) => _backend.Requests.Count(r => r.PathAndQuery.Split('?')[0].EndsWith(path, StringComparison.Ordinal));

    [GeneratedRegex("[a-z0-9]+")]
    private static partial Regex Word();

    /// <summary>Content Safety (Violence 4 for "kill"), Prompt Shields (no attack), embeddings (a dimension a word), or a chat answer.</summary>
    private async Task AnswerAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        var path = context.Request.Path.Value!;
        var body = _backend.Requests.Last(r => r.PathAndQuery.Split('?')[0] == path).Body;
        if (path.EndsWith("/text:analyze", StringComparison.Ordinal))
        {
            var violence = Word().Matches(body.ToLowerInvariant()).Any(m => m.Value == "kill") ? 4 : 0;
            await context.Response.WriteAsync($$"""{"blocklistsMatch":[],"categoriesAnalysis":[{"category":"Hate","severity":0},{"category":"SelfHarm","severity":0},{"category":"Sexual","severity":0},{"category":"Violence","severity":{{violence}}}]}""");
        }
        else if (path.EndsWith("/text:shieldPrompt", StringComparison.Ordinal))
        {
            await context.Response.WriteAsync("""{"userPromptAnalysis":{"attackDetected":false},"documentsAnalysis":[]}""");
        }
        else if (path.EndsWith("/embeddings", StringComparison.Ordinal))
        {
            var input = JsonDocument.Parse(body).RootElement.GetProperty("input").GetString()!;
            var vector = new float[256];
            foreach (Match word in Word().Matches(input.ToLowerInvariant()))
            {
                vector[_vocabulary.GetOrAdd(word.Value, _ => _vocabulary.Count)] += 1;
            }

            await context.Response.WriteAsync(JsonSerializer.Serialize(new { @object = "list", data = new[] { new { @object = "embedding", index = 0, embedding = vector } } }));
        }
        else
        {
            await ModelAnswers.Completion(12, 5)(context);
        }
    }
}
