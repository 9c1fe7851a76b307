using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Apim;
using Gateway.Policies;
using Gateway.Telemetry;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Tests.Policies.Elements;

/// <summary>
/// The semantic cache policies against a backend that answers chat completions and, at the embeddings backend's address,
/// embeddings whose cosine similarity is the texts' word overlap (each distinct word its own dimension): "How do I reset my
/// password?" and "How can I reset my password?" share 5 of 6 words, a similarity of 5/6 and a distance of 0.17.
/// </summary>
public sealed partial class SemanticCachePolicyTests : IAsyncLifetime, IDisposable
{
    private const string EmbeddingsPath = "/openai/deployments/text-embedding-3-small/embeddings";
    private const string AdminKey = "admin-key-for-the-tests-0123456789";
    private const string Question = "How do I reset my password?";
    private const string Paraphrase = "How can I reset my password?";
    private const string Unrelated = "What is the capital of France?";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero));
    private readonly TestApim _apim = new();
    private readonly List<GatewayFactory> _factories = [];
    private readonly ConcurrentDictionary<string, int> _vocabulary = new(StringComparer.Ordinal);
    private RecordingBackend _backend = null!;

    /// <summary>Statuses the embeddings address answers with, one per call, before it answers normally.</summary>
    private ConcurrentQueue<int> EmbeddingsFailures { get; } = new();

    /// <summary>Statuses the chat address answers with, one per call, before the usual 200.</summary>
    private ConcurrentQueue<int> ChatStatuses { get; } = new();

    /// <summary>The Content-Type of the chat address's answers.</summary>
    private string ChatContentType { get; set; } = "application/json";

    public async Task InitializeAsync()
    {
        _backend = await RecordingBackend.StartAsync();
        _backend.Answer = AnswerAsync;
        TestTopology.ReplaceBackends(_apim, $$"""{ "id": "embeddings-backend", "account": "aoai-eastus2", "url": "{{_backend.Url}}{{EmbeddingsPath}}", "protocol": "http" }""");
    }

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    public void Dispose()
    {
        foreach (var factory in _factories)
        {
            factory.Dispose();
        }

        _apim.Dispose();
    }

    [Theory]
    [InlineData("azure-openai-semantic-cache-lookup", "azure-openai-semantic-cache-store")]
    [InlineData("llm-semantic-cache-lookup", "llm-semantic-cache-store")]
    [Covers("azure-openai-semantic-cache-lookup", "score-threshold", "embeddings-backend-id")]
    [Covers("azure-openai-semantic-cache-store", "duration")]
    [Covers("llm-semantic-cache-lookup", "score-threshold", "embeddings-backend-id")]
    [Covers("llm-semantic-cache-store", "duration")]
    public async Task Lookup_SamePromptAgain_IsAnsweredFromTheCacheWithoutCallingTheBackend(string lookup, string store)
    {
        var client = Start($"""<{lookup} score-threshold="0.05" embeddings-backend-id="embeddings-backend" />""", $"""<{store} duration="60" />""");

        using var first = await AskAsync(client, Question);
        using var second = await AskAsync(client, Question);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal("application/json", second.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, ChatCalls());
        Assert.Equal(2, EmbeddingsCalls().Count);
        Assert.Equal($$"""{"input":"{{Question}}"}""", EmbeddingsCalls()[0].Body);
        Assert.Contains("api-version=2024-10-21", EmbeddingsCalls()[0].PathAndQuery, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Paraphrase, "0.2", true)]
    [InlineData(Paraphrase, "0.1", false)]
    [InlineData(Unrelated, "0.8", false)]
    [InlineData(Question, "0", true)]
    [Covers("azure-openai-semantic-cache-lookup", "score-threshold")]
    public async Task Lookup_ScoreThresholdIsACosineDistance_ACloseParaphraseHitsWithinItAndMissesBeyond(string second, string threshold, bool hit)
    {
        var client = Start($"""<azure-openai-semantic-cache-lookup score-threshold="{threshold}" embeddings-backend-id="embeddings-backend" />""", """<azure-openai-semantic-cache-store duration="60" />""");

        using var first = await AskAsync(client, Question);
        using var next = await AskAsync(client, second);

        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(hit ? 1 : 2, ChatCalls());
    }

    [Fact]
    [Covers("azure-openai-semantic-cache-lookup")]
    public async Task Lookup_VaryBy_PartitionsTheCacheByTheConcatenatedValues()
    {
        var client = Start(
            """
            <azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings-backend">
              <vary-by>@(context.Request.Headers.GetValueOrDefault("x-team", ""))</vary-by>
              <vary-by>@(context.Request.Headers.GetValueOrDefault("x-region", ""))</vary-by>
            </azure-openai-semantic-cache-lookup>
            """,
            """<azure-openai-semantic-cache-store duration="60" />""");

        using var teamA = await AskAsync(client, Question, ("x-team", "a"), ("x-region", "eu"));
        using var teamB = await AskAsync(client, Question, ("x-team", "b"), ("x-region", "eu"));
        using var teamAAgain = await AskAsync(client, Question, ("x-team", "a"), ("x-region", "eu"));
        using var teamAElsewhere = await AskAsync(client, Question, ("x-team", "a"), ("x-region", "us"));

        Assert.All(new[] { teamA, teamB, teamAAgain, teamAElsewhere }, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(3, ChatCalls());
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [Covers("azure-openai-semantic-cache-lookup", "ignore-system-messages")]
    [Covers("llm-semantic-cache-lookup", "ignore-system-messages")]
    public async Task Lookup_IgnoreSystemMessages_EmbedsOnlyTheDialog(string ignore, bool hit)
    {
        var client = Start($"""<llm-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings-backend" ignore-system-messages="{ignore}" />""", """<llm-semantic-cache-store duration="60" />""");

        using var first = await client.PostChatAsync(body: Chat(("system", "You are a pirate."), ("user", Question)));
        using var second = await client.PostChatAsync(body: Chat(("developer", "You answer in French, always and only."), ("user", Question)));

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(hit ? 1 : 2, ChatCalls());
        Assert.Equal(hit ? $$"""{"input":"{{Question}}"}""" : $$"""{"input":"You are a pirate.\n{{Question}}"}""", EmbeddingsCalls()[0].Body);
    }

    [Theory]
    [InlineData("azure-openai-semantic-cache-lookup")]
    [InlineData("llm-semantic-cache-lookup")]
    [Covers("azure-openai-semantic-cache-lookup", "max-message-count", "ignore-system-messages")]
    [Covers("llm-semantic-cache-lookup", "max-message-count")]
    public async Task Lookup_MoreMessagesThanMaxMessageCount_IsNotCached(string lookup)
    {
        var store = lookup.Replace("lookup", "store", StringComparison.Ordinal);
        var client = Start($"""<{lookup} score-threshold="0.05" embeddings-backend-id="embeddings-backend" ignore-system-messages="true" max-message-count="2" />""", $"""<{store} duration="60" />""");
        var twoMessages = Chat(("system", "Be brief."), ("assistant", "Hello."), ("user", Question));
        var threeMessages = Chat(("user", "Hi."), ("assistant", "Hello."), ("user", Question));

        using var a = await client.PostChatAsync(body: twoMessages);
        using var b = await client.PostChatAsync(body: twoMessages);
        using var c = await client.PostChatAsync(body: threeMessages);
        using var d = await client.PostChatAsync(body: threeMessages);

        // Two dialog messages once the system message is gone: cached. Three: neither looked up nor stored.
        Assert.Equal(3, ChatCalls());
        Assert.Equal(2, EmbeddingsCalls().Count);
    }

    [Fact]
    [Covers("azure-openai-semantic-cache-store", "duration")]
    public async Task Store_Duration_EntriesExpireOnTheGatewaysClock()
    {
        var client = Start("""<azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings-backend" />""", """<azure-openai-semantic-cache-store duration="@(60)" />""");

        using var stored = await AskAsync(client, Question);
        _time.Advance(TimeSpan.FromSeconds(59));
        using var cached = await AskAsync(client, Question);
        _time.Advance(TimeSpan.FromSeconds(1));
        using var expired = await AskAsync(client, Question);
        using var storedAgain = await AskAsync(client, Question);

        Assert.Equal(2, ChatCalls());
    }

    [Theory]
    [InlineData(500)]
    [InlineData(429)]
    [InlineData(404)]
    [Covers("azure-openai-semantic-cache-lookup", "embeddings-backend-id")]
    public async Task Lookup_EmbeddingsBackendFails_IsNoErrorAndTheBackendAnswers(int status)
    {
        EmbeddingsFailures.Enqueue(status);
        EmbeddingsFailures.Enqueue(status);
        var client = Start(
            """<azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings-backend" />""",
            """<azure-openai-semantic-cache-store duration="60" />""",
            onError: TestPolicy.ErrorHeader);

        using var first = await AskAsync(client, Question);
        using var second = await AskAsync(client, Question);
        using var healed = await AskAsync(client, Question);
        using var cached = await AskAsync(client, Question);

        Assert.All(new[] { first, second, healed, cached }, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.False(first.Headers.Contains("x-error"));
        Assert.Equal(3, ChatCalls());
    }

    [Fact]
    [Covers("azure-openai-semantic-cache-lookup", "embeddings-backend-id")]
    public async Task Lookup_EmbeddingsBackendUnreachable_IsNoErrorAndTheBackendAnswers()
    {
        TestTopology.AddBackends(_apim, $$"""{ "id": "nowhere", "url": "http://127.0.0.1:9{{EmbeddingsPath}}", "protocol": "http" }""");
        var client = Start("""<azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="nowhere" />""", """<azure-openai-semantic-cache-store duration="60" />""");

        using var first = await AskAsync(client, Question);
        using var second = await AskAsync(client, Question);

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(2, ChatCalls());
    }

    [Theory]
    [InlineData("azure-openai-semantic-cache-lookup")]
    [InlineData("llm-semantic-cache-lookup")]
    [Covers("azure-openai-semantic-cache-lookup", "embeddings-backend-auth")]
    [Covers("llm-semantic-cache-lookup", "embeddings-backend-auth")]
    public async Task Lookup_SystemAssignedAuth_SendsAManagedIdentityTokenForAzureOpenAI(string lookup)
    {
        var client = Start($"""<{lookup} score-threshold="0.05" embeddings-backend-id="embeddings-backend" embeddings-backend-auth="system-assigned" />""", store: null);

        using var response = await client.PostChatAsync(path: "/openai/deployments/gpt-4o/chat/completions?api-version=2025-04-01-preview", body: Chat(("user", Question)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var call = Assert.Single(EmbeddingsCalls());
        var token = new JsonWebToken(call.Headers["Authorization"]["Bearer ".Length..]);
        Assert.Equal(["https://cognitiveservices.azure.com"], token.Audiences);
        Assert.Contains("api-version=2025-04-01-preview", call.PathAndQuery, StringComparison.Ordinal);
        Assert.False(call.Headers.ContainsKey("api-key"));
    }

    [Theory]
    [InlineData(null, 200, true)]
    [InlineData(null, 400, false)]
    [InlineData("false", 400, false)]
    [InlineData("true", 400, true)]
    [InlineData("@(context.Response.StatusCode < 500)", 400, true)]
    [Covers("llm-semantic-cache-store", "cache-response")]
    public async Task Store_CachesA200_OrAnyResponseWithCacheResponse(string? cacheResponse, int status, bool cached)
    {
        ChatStatuses.Enqueue(status);
        var attribute = cacheResponse is null ? string.Empty : $"""cache-response="{cacheResponse}" """;
        var client = Start("""<llm-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings-backend" />""", $"""<llm-semantic-cache-store duration="60" {attribute}/>""");

        using var first = await AskAsync(client, Question);
        using var second = await AskAsync(client, Question);

        Assert.Equal((HttpStatusCode)status, first.StatusCode);
        Assert.Equal(cached ? (HttpStatusCode)status : HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(cached ? 1 : 2, ChatCalls());
    }

    [Theory]
    [InlineData("application/json", true)]
    [InlineData("text/event-stream", false)]
    [Covers("azure-openai-semantic-cache-store", "duration")]
    public async Task Store_UnbufferedBackendResponse_IsReadWholeAndCached_UnlessItIsAnEventStream(string contentType, bool cached)
    {
        // The shipped policy forwards with buffer-response="false": a plain JSON answer is still read whole and stored, as
        // reading context.Response.Body reads it, and the client that caused the store gets all of it.
        ChatContentType = contentType;
        var client = Start(
            """<azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings-backend" />""",
            """<azure-openai-semantic-cache-store duration="60" />""",
            backend: TestPolicy.ForwardUnbuffered);

        using var first = await AskAsync(client, Question);
        using var second = await AskAsync(client, Question);

        var firstBody = await first.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("\"An answer.\"", firstBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(cached ? 1 : 2, ChatCalls());
        Assert.Equal(cached, firstBody == await second.Content.ReadAsStringAsync());
    }

    [Fact]
    [Covers("azure-openai-semantic-cache-lookup")]
    public async Task Lookup_StreamedRequest_IsNeitherServedFromNorStoredInTheCache()
    {
        var client = Start("""<azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings-backend" />""", """<azure-openai-semantic-cache-store duration="60" />""");
        var streamed = $$"""{"messages":[{"role":"user","content":"{{Question}}"}],"stream":true}""";

        using var plain = await AskAsync(client, Question);
        using var first = await client.PostChatAsync(body: streamed);
        using var second = await client.PostChatAsync(body: streamed);

        Assert.Equal(3, ChatCalls());
        Assert.Single(EmbeddingsCalls());
    }

    [Fact]
    [Covers("azure-openai-semantic-cache-lookup")]
    public async Task Lookup_OtherOperation_DoesNotShareTheCache()
    {
        var client = Start("""<azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings-backend" />""", """<azure-openai-semantic-cache-store duration="60" />""");

        using var chat = await AskAsync(client, Question);
        using var completion = await client.PostChatAsync(path: "/openai/deployments/gpt-4o/completions?api-version=2024-10-21", body: $$"""{"prompt":"{{Question}}"}""");
        using var completionAgain = await client.PostChatAsync(path: "/openai/deployments/gpt-4o/completions?api-version=2024-10-21", body: $$"""{"prompt":["{{Question}}"]}""");

        // The completion's prompt is the chat's question, but another operation: a miss, then a hit of its own.
        Assert.Equal(HttpStatusCode.OK, completionAgain.StatusCode);
        Assert.Equal(1, ChatCalls());
        Assert.Equal(1, _backend.Requests.Count(r => r.PathAndQuery.StartsWith("/openai/deployments/gpt-4o/completions", StringComparison.Ordinal)));
    }

    [Fact]
    [Covers("azure-openai-semantic-cache-lookup")]
    public async Task AdminReset_ScopeCaches_EmptiesTheSemanticCache()
    {
        var client = Start("""<azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings-backend" />""", """<azure-openai-semantic-cache-store duration="60" />""");

        using var stored = await AskAsync(client, Question);
        using var reset = new HttpRequestMessage(HttpMethod.Post, "/_gateway/admin/reset?scope=caches") { Headers = { { "x-admin-key", AdminKey } } };
        using var resetResponse = await client.SendAsync(reset).WaitAsync(TestTimeouts.Request);
        using var afterReset = await AskAsync(client, Question);

        Assert.Equal(HttpStatusCode.OK, resetResponse.StatusCode);
        Assert.Contains("""{"name":"semantic-cache","scope":"caches","entries":1}""", await resetResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(2, ChatCalls());
    }

    [Fact]
    [Covers("azure-openai-semantic-cache-lookup")]
    [Covers("azure-openai-token-limit", "tokens-per-minute")]
    [Covers("azure-openai-emit-token-metric")]
    public async Task CacheHit_ConsumesNoTokens_WhetherTheTokenPoliciesComeBeforeOrAfterTheLookup()
    {
        // Microsoft's zero-to-production lab puts the token policies after the lookup: a hit never reaches them. Here
        // the metric comes before and the limit after; a hit reports no usage to either.
        _backend.Answer = context => context.Request.Path.Value!.EndsWith("/embeddings", StringComparison.Ordinal) ? AnswerAsync(context) : ModelAnswers.Completion(9, 11)(context);
        var client = Start(
            """
            <azure-openai-emit-token-metric namespace="openai"><dimension name="API ID" /></azure-openai-emit-token-metric>
            <azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings-backend" />
            <azure-openai-token-limit counter-key="fixed" tokens-per-minute="30" estimate-prompt-tokens="false" />
            """,
            """<azure-openai-semantic-cache-store duration="60" />""");
        using var total = new MetricCollector<long>(_factories[^1].Services.GetRequiredService<IMeterFactory>(), PolicyMetrics.MeterName, PolicyMetrics.TotalTokensName);

        using var first = await AskAsync(client, Question);
        using var hits = await AskAsync(client, Question);
        using var hitAgain = await AskAsync(client, Question);
        using var other = await AskAsync(client, Unrelated);
        using var refused = await AskAsync(client, "Which planet is the largest?");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, (HttpStatusCode)429], new[] { first, hits, hitAgain, other, refused }.Select(r => r.StatusCode));
        Assert.Equal(40, total.GetMeasurementSnapshot().EvaluateAsCounter());
    }

    [Theory]
    [InlineData("<inbound><azure-openai-semantic-cache-lookup score-threshold=\"1.5\" embeddings-backend-id=\"e\" /></inbound>", "attribute 'score-threshold' of <azure-openai-semantic-cache-lookup> must be a number from 0.0 to 1.0, not '1.5'")]
    [InlineData("<inbound><azure-openai-semantic-cache-lookup embeddings-backend-id=\"e\" /></inbound>", "score-threshold")]
    [InlineData("<inbound><llm-semantic-cache-lookup score-threshold=\"0.1\" embeddings-backend-id=\"e\" embeddings-backend-auth=\"user-assigned\" /></inbound>", "must be system-assigned, not 'user-assigned'")]
    [InlineData("<inbound><llm-semantic-cache-lookup score-threshold=\"0.1\" embeddings-backend-id=\"e\" /><llm-semantic-cache-lookup score-threshold=\"0.1\" embeddings-backend-id=\"e\" /></inbound>", "<llm-semantic-cache-lookup> may appear only once in a section")]
    [InlineData("<outbound><azure-openai-semantic-cache-store duration=\"60\" /><azure-openai-semantic-cache-store duration=\"60\" /></outbound>", "<azure-openai-semantic-cache-store> may appear only once in a section")]
    [InlineData("<outbound><azure-openai-semantic-cache-store duration=\"60\" cache-response=\"true\" /></outbound>", "unknown attribute 'cache-response'")]
    [InlineData("<inbound><azure-openai-semantic-cache-store duration=\"60\" /></inbound>", "is not allowed in the inbound section")]
    [InlineData("<outbound><llm-semantic-cache-lookup score-threshold=\"0.1\" embeddings-backend-id=\"e\" /></outbound>", "is not allowed in the outbound section")]
    [InlineData("<inbound><llm-semantic-cache-lookup score-threshold=\"0.1\" embeddings-backend-id=\"e\"><vary-by-header>Accept</vary-by-header></llm-semantic-cache-lookup></inbound>", "<vary-by-header> is not allowed inside <llm-semantic-cache-lookup>")]
    public void Load_InvalidSemanticCachePolicy_Fails(string sections, string reason)
    {
        var error = Assert.Throws<PolicyLoadException>(() =>
            PolicyLoader.Load($"<policies>{sections}</policies>", "policy.xml", PolicyScope.Api, new NamedValues(new Dictionary<string, string?>())));

        Assert.Contains(reason, string.Join("\n", error.Problems), StringComparison.Ordinal);
    }

    private static string Chat(params (string Role, string Content)[] messages) =>
        JsonSerializer.Serialize(new { messages = messages.Select(m => new { role = m.Role, content = m.Content }) });

    [GeneratedRegex("[a-z0-9]+")]
    private static partial Regex Word();

    private HttpClient Start(string lookup, string? store, string? onError = null, string backend = TestPolicy.Forward)
    {
        File.WriteAllText(_apim.PolicyPath, TestPolicy.With(
            inbound: "<base />\n" + TestPolicy.ToEastUs2 + "\n" + lookup,
            backend: backend,
            outbound: store is null ? null : store + "\n<base />",
            onError: onError));
        var factory = new GatewayFactory(_apim, _backend.Url, time: _time, settings: new Dictionary<string, string> { ["Gateway:AdminKey"] = AdminKey });
        _factories.Add(factory);
        return factory.CreateClient();
    }

    private static Task<HttpResponseMessage> AskAsync(HttpClient client, string question, params (string Name, string Value)[] headers) =>
        client.PostChatAsync(body: Chat(("user", question)), headers: headers);

    private int ChatCalls() => _backend.Requests.Count(r => r.PathAndQuery.Contains("/chat/completions", StringComparison.Ordinal));

    private List<RecordedRequest> EmbeddingsCalls() => [.. _backend.Requests.Where(r => r.PathAndQuery.StartsWith(EmbeddingsPath, StringComparison.Ordinal))];

    /// <summary>Embeddings at the embeddings address (or a scripted failure); elsewhere a chat completion, or a scripted status.</summary>
    private async Task AnswerAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        if (!context.Request.Path.Value!.EndsWith("/embeddings", StringComparison.Ordinal))
        {
            context.Response.ContentType = ChatContentType;
            context.Response.StatusCode = ChatStatuses.TryDequeue(out var status) ? status : 200;
            await context.Response.WriteAsync($$"""{"id":"chatcmpl-{{Guid.NewGuid():N}}","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"An answer."},"finish_reason":"stop"}]}""");
            return;
        }

        if (EmbeddingsFailures.TryDequeue(out var failure))
        {
            context.Response.StatusCode = failure;
            await context.Response.WriteAsync("""{"error":{"code":"429","message":"Try again later."}}""");
            return;
        }

        var input = JsonDocument.Parse(_backend.Requests.Last(r => r.PathAndQuery.StartsWith(EmbeddingsPath, StringComparison.Ordinal)).Body).RootElement.GetProperty("input").GetString()!;
        var vector = new float[256];
        foreach (Match word in Word().Matches(input.ToLowerInvariant()))
        {
            vector[_vocabulary.GetOrAdd(word.Value, _ => _vocabulary.Count)] += 1;
        }

        await context.Response.WriteAsync(JsonSerializer.Serialize(new { @object = "list", data = new[] { new { @object = "embedding", index = 0, embedding = vector } } }));
    }
}
