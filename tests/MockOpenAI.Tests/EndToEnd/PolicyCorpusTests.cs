using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using MockOpenAI.Tests.Support;

namespace MockOpenAI.Tests.EndToEnd;

/// <summary>
/// The policy corpus: one small policy per element, attribute and expression pattern that Microsoft's public AI gateway
/// samples use (Azure-Samples/AI-Gateway, Azure-Samples/Apim-Samples), written here in their spirit (EndToEnd/Corpus/;
/// each file's first line names its pattern and the sample family that uses it). Each test lays out the shipped apim/
/// with one of them as the API policy (and the corpus fragments beside the shipped ones), starts the gateway in front of
/// three real mock accounts (shared by the class, reset before each test) and checks what the policy visibly does: the
/// status, a header it set, the backend reached and what it received, a metric or a trace.
/// </summary>
public sealed partial class PolicyCorpusTests(RegionalAccounts accounts) : IClassFixture<RegionalAccounts>, IAsyncLifetime, IDisposable
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private const string EmbeddingsPath = "/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21";
    private const string Question = "Which way to the harbour?";
    private const string Chat = """{"messages":[{"role":"user","content":"Which way to the harbour?"}],"max_tokens":5}""";
    private const string StreamedChat = """{"messages":[{"role":"user","content":"Which way to the harbour?"}],"max_tokens":5,"stream":true}""";
    private const string Embeddings = """{"input":"harbour"}""";
    private const string BackendList = "[{'name':'aoai-eastus2-gpt-4o','priority':1},{'name':'aoai-swedencentral-gpt-4o','priority':2}]";
    private const string SigningSecret = "corpus-signing-secret";
    private static readonly byte[] JwtKey = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] EncryptionKey = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] EncryptionIv = RandomNumberGenerator.GetBytes(16);

    private readonly string _apim = Directory.CreateTempSubdirectory("apim-corpus-").FullName;
    private readonly HttpClient _client = new();
    private InProcessGateway? _gateway;

    /// <summary>The corpus folder in this checkout.</summary>
    internal static string CorpusPath { get; } = Path.Combine(InProcessGateway.RepoRoot, "tests", "MockOpenAI.Tests", "EndToEnd", "Corpus");

    private InProcessGateway Gateway => _gateway!;

    public Task InitializeAsync() => accounts.ResetAsync();

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        Directory.Delete(_apim, recursive: true);
    }

    [Fact]
    public void EveryCorpusFile_IsRunByATest_AndEveryTestNamesAFileThatExists()
    {
        var files = Directory.EnumerateFiles(CorpusPath, "*.xml").Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        var named = typeof(PolicyCorpusTests).GetMethods()
            .Select(method => method.GetCustomAttribute<PolicyFileAttribute>())
            .OfType<PolicyFileAttribute>()
            .Select(attribute => attribute.File)
            .ToList();

        Assert.Empty(files.Except(named).Order());
        Assert.Empty(named.Except(files).Order());
        Assert.Equal(named.Count, named.Distinct().Count());
    }

    [Fact]
    public void EveryCorpusFile_OpensWithItsPatternAndFamily_AndEveryFragmentIsIncluded()
    {
        var policies = Directory.EnumerateFiles(CorpusPath, "*.xml").ToList();
        var fragments = Directory.EnumerateFiles(Path.Combine(CorpusPath, "fragments"), "*.xml").ToList();

        foreach (var file in policies.Concat(fragments))
        {
            Assert.Matches(FirstLine(), File.ReadLines(file).First());
        }

        var included = policies.SelectMany(file => IncludedFragment().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(fragments.Select(Path.GetFileNameWithoutExtension).Except(included));
    }

    // Backends, pools and retries.

    [Fact, PolicyFile("pool-retry-status-reason.xml")]
    public async Task PoolRetryOnStatusAndReason_ThrottledPriorityOne_IsServedByPriorityTwo_AndAnExhaustedPoolGetsThePolicys503()
    {
        Start();
        await ScriptStormAsync(accounts.EastUs2, 429);

        using var served = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(served);
        Assert.NotEqual("eastus2", RegionalAccounts.RegionOf(served));
        Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2));

        // Every member throttled: the first call meets three 429s and gets the last; then every breaker is open and the
        // pool's own "503 Backend pool is temporarily unavailable" reaches on-error (docs/policies.md, set-backend-service).
        await ScriptStormAsync(accounts.SwedenCentral, 429);
        await ScriptStormAsync(accounts.JapanEast, 429);
        accounts.Time.Advance(TimeSpan.FromSeconds(11));
        using var throttled = await SendAsync(ChatPath, Chat);
        using var exhausted = await SendAsync(ChatPath, Chat);

        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, exhausted.StatusCode);
        Assert.Equal("BackendUnavailable", Header(exhausted, "x-corpus-error"));
    }

    [Fact, PolicyFile("pool-exhausted-becomes-429.xml")]
    public async Task PoolRetriedOnEvery503_AnExhaustedPoolIsRetriedThenOnErrorTurnsIntoA429()
    {
        Start();
        await ScriptStormAsync(accounts.EastUs2, 429);
        await ScriptStormAsync(accounts.SwedenCentral, 429);
        await ScriptStormAsync(accounts.JapanEast, 429);

        // Three members, three 429s: the last one is the answer. Then every breaker is open: the retry sees the pool's
        // 503 twice more without reaching an account, and on-error's set-status makes it a 429.
        using var throttled = await SendAsync(ChatPath, Chat);
        using var exhausted = await SendAsync(ChatPath, Chat);

        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.False(throttled.Headers.Contains("x-corpus-tries"));
        Assert.Equal(HttpStatusCode.TooManyRequests, exhausted.StatusCode);
        Assert.Equal("Too Many Requests", exhausted.ReasonPhrase);
        Assert.Equal("3", Header(exhausted, "x-corpus-tries"));
        Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2));
        Assert.Single(await RegionalAccounts.JournalAsync(accounts.SwedenCentral));
        Assert.Single(await RegionalAccounts.JournalAsync(accounts.JapanEast));
    }

    [Fact, PolicyFile("jarray-backend-list.xml")]
    public async Task BackendListInTheCache_AThrottledBackendIsMarkedFromRetryAfter_AndSkippedOnTheNextCall()
    {
        Start();
        await ScriptStormAsync(accounts.EastUs2, 429);

        using var first = await SendAsync(ChatPath, Chat);
        using var second = await SendAsync(ChatPath, Chat);

        foreach (var response in new[] { first, second })
        {
            await AssertOkAsync(response);
            Assert.Equal("swedencentral", RegionalAccounts.RegionOf(response));
            Assert.Equal("aoai-swedencentral-gpt-4o", Header(response, "x-corpus-backend"));
        }

        Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2));
    }

    [Fact, PolicyFile("model-routing-choose.xml")]
    public async Task ChooseOnTheDeployment_SendsChatAndEmbeddingsToTheirBranchesBackends()
    {
        Start();

        using var chat = await SendAsync(ChatPath, Chat);
        using var embeddings = await SendAsync(EmbeddingsPath, Embeddings);

        Assert.Equal("chat.completion", (await AssertOkAsync(chat))["object"]!.GetValue<string>());
        Assert.Equal("swedencentral", RegionalAccounts.RegionOf(chat));
        Assert.Equal("list", (await AssertOkAsync(embeddings))["object"]!.GetValue<string>());
        Assert.Equal("japaneast", RegionalAccounts.RegionOf(embeddings));
    }

    [Fact, PolicyFile("backend-credentials-pool.xml")]
    public async Task PolicyWithoutLogin_ThePoolsMembersLogInFromTheirCredentials_AStreamIsServed()
    {
        Start(backendCredentials: true);

        using var response = await SendAsync(ChatPath, StreamedChat, stream: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.EndsWith("data: [DONE]\n\n", await BodyAsync(response), StringComparison.Ordinal);
        Assert.Equal("eastus2", RegionalAccounts.RegionOf(response));
        Assert.Contains("aud=https://cognitiveservices.azure.com", Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2)).Headers["x-mock-token-claims"], StringComparison.Ordinal);
    }

    [Fact, PolicyFile("llm-content-safety.xml")]
    public async Task ContentSafety_AHarmfulOrBlocklistedPromptGets403BeforeTheModel_AHarmlessOneIsAnswered()
    {
        await using var safety = await LoopbackContentSafety.StartAsync(accounts.Key, accounts.Time);
        var token = (await accounts.EastUs2.Issuer.GetTokenAsync("https://cognitiveservices.azure.com", null, CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Request)).Token;
        await safety.AddBlocklistItemAsync(token, "blocklist1", "harbour");
        Start(backendCredentials: true, contentSafety: safety.Http.BaseAddress);

        using var harmful = await SendAsync(ChatPath, """{"messages":[{"role":"user","content":"Can you tell me how to make kill someone?"}],"max_tokens":5}""");
        using var blocklisted = await SendAsync(ChatPath, Chat);
        using var harmless = await SendAsync(ChatPath, """{"messages":[{"role":"user","content":"Which way to the station?"}],"max_tokens":5}""");

        Assert.Equal(HttpStatusCode.Forbidden, harmful.StatusCode);
        Assert.Equal("""{"statusCode": 403, "message": "Request failed content safety check."}""", await BodyAsync(harmful));
        Assert.Equal(HttpStatusCode.Forbidden, blocklisted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, harmless.StatusCode);
        Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2), e => e.Path.EndsWith("/chat/completions", StringComparison.Ordinal));
    }

    [Fact, PolicyFile("forward-request-attributes.xml")]
    public async Task ForwardRequestAttributes_AStreamPassesThrough_AndAnErrorStatusGoesToOnErrorWithItsLastError()
    {
        Start();

        using var streamed = await SendAsync(ChatPath, StreamedChat, stream: true);
        using var failed = await SendAsync("/openai/deployments/missing/chat/completions?api-version=2024-10-21", Chat);

        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.StartsWith("text/event-stream", streamed.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", await BodyAsync(streamed), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Equal("forward-request/BackendResponseStatusCode/404", Header(failed, "x-corpus-error"));
    }

    [Fact, PolicyFile("base-url-expression-in-literal-text.xml")]
    public async Task BaseUrlWithAnExpressionAmongLiteralText_IsEvaluatedInPlace_AndReachesThatAccount()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat, headers: new() { ["x-corpus-port"] = accounts.SwedenCentral.Http.BaseAddress!.Port.ToString(CultureInfo.InvariantCulture) });

        await AssertOkAsync(response);
        Assert.Equal("swedencentral", RegionalAccounts.RegionOf(response));
    }

    [Fact, PolicyFile("base-url-interpolated-named-value.xml")]
    public async Task BaseUrlInterpolatedAroundANamedValue_ReachesThatAccount()
    {
        Start();

        using var response = await SendAsync(EmbeddingsPath, Embeddings);

        await AssertOkAsync(response);
        Assert.Equal("japaneast", RegionalAccounts.RegionOf(response));
    }

    [Fact, PolicyFile("limit-concurrency.xml")]
    public async Task LimitConcurrency_ASecondCallWhileOneIsUnderWay_Gets429_TheFirstCompletes()
    {
        Start();
        var delay = TimeSpan.FromMilliseconds(4321);
        await accounts.ScriptAsync(accounts.EastUs2, $$"""{ "StatusCode": 200, "Headers": { "x-mock-fault": "delay={{delay.TotalMilliseconds}}" } }""");

        var slow = SendAsync(ChatPath, StreamedChat, stream: true);
        await accounts.Time.WaitForTimerAsync(delay, TestTimeouts.Request);
        using var refused = await SendAsync(ChatPath, Chat);
        accounts.Time.Advance(delay);
        using var completed = await slow;

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("Too many concurrent requests.", await BodyAsync(refused), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, completed.StatusCode);
        Assert.EndsWith("data: [DONE]\n\n", await BodyAsync(completed), StringComparison.Ordinal);
        Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2));
    }

    // Token limits and metrics.

    [Fact, PolicyFile("token-limit-remaining-variable.xml")]
    public async Task TokenLimitWithoutEstimate_TheRemainingTokensVariable_DropsByTheFirstCallsUsage()
    {
        Start();

        using var first = await SendAsync(ChatPath, Chat);
        var usage = (await AssertOkAsync(first))["usage"]!["total_tokens"]!.GetValue<int>();
        using var second = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(second);
        Assert.Equal("1000", Header(first, "x-corpus-remaining-tokens"));
        Assert.Equal((1000 - usage).ToString(CultureInfo.InvariantCulture), Header(second, "x-corpus-remaining-tokens"));
    }

    [Fact, PolicyFile("llm-token-limit-estimated.xml")]
    public async Task LlmTokenLimitWithEstimate_ALongPromptOverTheMinutesTokens_Gets429WithRetryAfter()
    {
        Start();
        var longPrompt = string.Join(' ', Enumerable.Repeat("harbour lighthouse", 40));

        using var small = await SendAsync(ChatPath, Chat);
        using var large = await SendAsync(ChatPath, $$"""{"messages":[{"role":"user","content":"{{longPrompt}}"}],"max_tokens":5}""");

        await AssertOkAsync(small);
        Assert.Equal(HttpStatusCode.TooManyRequests, large.StatusCode);
        Assert.Contains("Token limit is exceeded.", await BodyAsync(large), StringComparison.Ordinal);
        Assert.True(int.Parse(Header(large, "Retry-After")!, CultureInfo.InvariantCulture) > 0);
        Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2));
    }

    [Fact, PolicyFile("token-metric-dimensions.xml")]
    public async Task AzureOpenAiTokenMetric_AddsTheCallsTotalTokens_WithTheDimensionsItNames()
    {
        Start();
        using var total = new MetricCollector<long>(Gateway.Services.GetRequiredService<IMeterFactory>(), "Gateway.Policies.Metrics", "Total Tokens");

        using var response = await SendAsync(ChatPath, Chat);
        var usage = (await AssertOkAsync(response))["usage"]!["total_tokens"]!.GetValue<long>();
        await total.WaitForMeasurementsAsync(1).WaitAsync(TestTimeouts.Request);

        var measurement = Assert.Single(total.GetMeasurementSnapshot());
        Assert.Equal(usage, measurement.Value);
        Assert.Equal("corpus", measurement.Tags["namespace"]);
        Assert.Equal("chat-app", measurement.Tags["Subscription ID"]);
        Assert.Equal("azure-openai", measurement.Tags["API ID"]);
        Assert.Equal("N/A", measurement.Tags["User ID"]);
        Assert.Contains("127.0.0.1", (string)measurement.Tags["Client IP"]!, StringComparison.Ordinal);
    }

    [Fact, PolicyFile("llm-token-metric-embeddings.xml")]
    public async Task LlmTokenMetric_OnEmbeddings_AddsThePromptTokens_WithProductAndModel()
    {
        Start();
        using var prompt = new MetricCollector<long>(Gateway.Services.GetRequiredService<IMeterFactory>(), "Gateway.Policies.Metrics", "Prompt Tokens");

        using var response = await SendAsync(EmbeddingsPath, Embeddings);
        var usage = (await AssertOkAsync(response))["usage"]!["prompt_tokens"]!.GetValue<long>();
        await prompt.WaitForMeasurementsAsync(1).WaitAsync(TestTimeouts.Request);

        var measurement = Assert.Single(prompt.GetMeasurementSnapshot());
        Assert.Equal(usage, measurement.Value);
        Assert.Equal("corpus-llm", measurement.Tags["namespace"]);
        Assert.Equal("none", measurement.Tags["Product"]);
        Assert.Equal("text-embedding-3-small", measurement.Tags["Model"]);
    }

    [Fact, PolicyFile("emit-metric-caller-tokens.xml")]
    public async Task EmitMetric_CountsTheCallerInInbound_AndItsTotalTokensFromTheResponseInOutbound_LeavingTheBodyIntact()
    {
        Start();
        var meters = Gateway.Services.GetRequiredService<IMeterFactory>();
        using var requests = new MetricCollector<double>(meters, "Gateway.Policies.Metrics", "corpus-caller-requests");
        using var tokens = new MetricCollector<double>(meters, "Gateway.Policies.Metrics", "corpus-caller-tokens");

        using var response = await SendAsync(ChatPath, Chat, headers: new() { ["x-caller"] = "team-a" });
        var body = await AssertOkAsync(response);

        var request = Assert.Single(requests.GetMeasurementSnapshot());
        Assert.Equal(1, request.Value);
        Assert.Equal("team-a", request.Tags["CallerId"]);
        Assert.Equal("Azure OpenAI", request.Tags["API"]);
        Assert.Equal("ChatCompletions_Create", request.Tags["Operation"]);
        var total = Assert.Single(tokens.GetMeasurementSnapshot());
        Assert.Equal(body["usage"]!["total_tokens"]!.GetValue<double>(), total.Value);
        Assert.Equal(body["model"]!.GetValue<string>(), total.Tags["Model"]);
    }

    // Limits and caching.

    [Fact, PolicyFile("rate-limit-by-key.xml")]
    public async Task RateLimitByKey_TwoCallsAMinute_CountsDownThenRefusesTheThird()
    {
        Start();

        using var first = await SendAsync(ChatPath, Chat);
        using var second = await SendAsync(ChatPath, Chat);
        using var third = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(first);
        await AssertOkAsync(second);
        Assert.Equal("1", Header(first, "x-corpus-remaining-calls"));
        Assert.Equal("0", Header(second, "x-corpus-remaining-calls"));
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Contains("Rate limit is exceeded.", await BodyAsync(third), StringComparison.Ordinal);
        Assert.NotNull(Header(third, "Retry-After"));
    }

    [Fact, PolicyFile("quota-by-key.xml")]
    public async Task QuotaByKey_OneCallPerPeriod_RefusesTheSecondWith403()
    {
        Start();

        using var first = await SendAsync(ChatPath, Chat);
        using var second = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(first);
        Assert.Equal(HttpStatusCode.Forbidden, second.StatusCode);
        Assert.Contains("Out of call volume quota.", await BodyAsync(second), StringComparison.Ordinal);
    }

    [Fact, PolicyFile("cache-lookup-store-value.xml")]
    public async Task CacheLookupAndStore_TheFirstRequestIdIsRemembered_UntilRemoved()
    {
        Start();

        using var first = await SendAsync(ChatPath, Chat);
        using var second = await SendAsync(ChatPath, Chat);
        using var forgotten = await SendAsync(ChatPath, Chat, headers: new() { ["x-corpus-forget"] = "1" });

        foreach (var response in new[] { first, second, forgotten })
        {
            await AssertOkAsync(response);
        }

        Assert.Equal(Header(first, "x-corpus-this-request"), Header(first, "x-corpus-first-request"));
        Assert.Equal(Header(first, "x-corpus-this-request"), Header(second, "x-corpus-first-request"));
        Assert.NotEqual(Header(second, "x-corpus-this-request"), Header(second, "x-corpus-first-request"));
        Assert.Equal(Header(forgotten, "x-corpus-this-request"), Header(forgotten, "x-corpus-first-request"));
    }

    [Fact, PolicyFile("semantic-cache-lookup-store.xml")]
    public async Task SemanticCache_AParaphraseIsAnsweredFromTheCache_AnUnrelatedQuestionReachesTheAccount()
    {
        Start(embeddingsBackend: true);

        // The mock's embeddings follow word overlap: "Which way is it to the harbour?" is at a cosine distance of about
        // 0.2 from the question (within 0.8), "Tell me a joke about cats." at about 1 (docs/mock.md, "Embeddings").
        using var first = await SendAsync(ChatPath, Chat);
        using var paraphrase = await SendAsync(ChatPath, """{"messages":[{"role":"user","content":"Which way is it to the harbour?"}],"max_tokens":5}""");
        using var unrelated = await SendAsync(ChatPath, """{"messages":[{"role":"user","content":"Tell me a joke about cats."}],"max_tokens":5}""");

        var answer = await AssertOkAsync(first);
        Assert.Equal(answer["id"]!.GetValue<string>(), (await AssertOkAsync(paraphrase))["id"]!.GetValue<string>());
        Assert.NotEqual(answer["id"]!.GetValue<string>(), (await AssertOkAsync(unrelated))["id"]!.GetValue<string>());
        var journal = await RegionalAccounts.JournalAsync(accounts.EastUs2);
        Assert.Equal(2, journal.Count(e => e.Path.EndsWith("/chat/completions", StringComparison.Ordinal)));
        var embeddings = journal.Where(e => e.Path == "/openai/deployments/text-embedding-3-small/embeddings").ToList();
        Assert.Equal(3, embeddings.Count);
        Assert.All(embeddings, e => Assert.Contains("aud=https://cognitiveservices.azure.com", e.Headers["x-mock-token-claims"], StringComparison.Ordinal));
    }

    // Transformations.

    [Fact, PolicyFile("rewrite-uri-to-v1.xml")]
    public async Task RewriteUriToV1_TheAccountGetsTheV1PathWithoutTheQuery_AndTheModelInTheBody()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat);

        Assert.Equal("chat.completion", (await AssertOkAsync(response))["object"]!.GetValue<string>());
        var received = Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2));
        Assert.Equal("/openai/v1/chat/completions", received.Path);
        Assert.False(received.Query.ContainsKey("api-version"));
        Assert.Equal("gpt-4o", JsonNode.Parse(received.Body!)!["model"]!.GetValue<string>());
    }

    [Fact, PolicyFile("set-query-parameter.xml")]
    public async Task SetQueryParameter_OverridesTheApiVersion_SkipsWhereTheCallerSetsOne_AndDeletes()
    {
        Start();

        using var defaulted = await SendAsync("/openai/deployments/gpt-4o/chat/completions?api-version=2099-01-01&corpus-debug=1", Chat);
        using var kept = await SendAsync(ChatPath + "&corpus-tag=client", Chat);

        await AssertOkAsync(defaulted);
        await AssertOkAsync(kept);
        var journal = await RegionalAccounts.JournalAsync(accounts.EastUs2);
        Assert.Equal("2024-10-21", journal[0].Query["api-version"]);
        Assert.Equal("gateway", journal[0].Query["corpus-tag"]);
        Assert.False(journal[0].Query.ContainsKey("corpus-debug"));
        Assert.Equal("client", journal[1].Query["corpus-tag"]);
    }

    [Fact, PolicyFile("set-header-exists-actions.xml")]
    public async Task SetHeaderExistsActions_OnTheRequestAndTheResponse()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat, headers: new() { ["x-corpus-route"] = "client", ["x-corpus-tenant"] = "fabrikam" });

        await AssertOkAsync(response);
        var received = Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2));
        Assert.False(received.Headers.ContainsKey("api-key"));
        Assert.Equal(Header(response, "x-request-id"), received.Headers["x-ms-client-request-id"]);
        Assert.True(Guid.TryParse(Header(response, "x-request-id"), out _));
        Assert.Equal("client,gateway", received.Headers["x-corpus-route"].Replace(" ", "", StringComparison.Ordinal));
        Assert.Equal("fabrikam", received.Headers["x-corpus-tenant"]);
        Assert.Equal("eastus2", RegionalAccounts.RegionOf(response));
        Assert.Null(Header(response, "apim-request-id"));
    }

    [Fact, PolicyFile("set-method-and-body.xml")]
    public async Task SetMethodAndBody_TurnAGetOfTheModelListIntoAChatCompletion()
    {
        Start();

        using var response = await SendAsync("/openai/v1/models?q=Lighthouse", method: HttpMethod.Get);

        Assert.Equal("chat.completion", (await AssertOkAsync(response))["object"]!.GetValue<string>());
        var received = Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2));
        Assert.Equal("POST", received.Method);
        Assert.Equal("/openai/deployments/gpt-4o/chat/completions", received.Path);
        Assert.Equal("Lighthouse", JsonNode.Parse(received.Body!)!["messages"]![0]!["content"]!.GetValue<string>());
    }

    [Fact, PolicyFile("set-body-stream-include-usage.xml")]
    public async Task SetBodyFromAFragment_AStreamedCallWithoutStreamOptions_GetsItsUsageChunk()
    {
        Start();

        using var response = await SendAsync(ChatPath, StreamedChat, stream: true);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = await BodyAsync(response);
        Assert.Contains("\"prompt_tokens\"", events, StringComparison.Ordinal);
        var received = Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2));
        Assert.True(JsonNode.Parse(received.Body!)!["stream_options"]!["include_usage"]!.GetValue<bool>());
    }

    [Fact, PolicyFile("include-fragment-correlation-id.xml")]
    public async Task IncludeFragmentInInboundAndOutbound_KeepsTheCallersCorrelationId_OrMakesOne()
    {
        Start();

        using var given = await SendAsync(ChatPath, Chat, headers: new() { ["x-correlation-id"] = "corr-17" });
        using var made = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(given);
        await AssertOkAsync(made);
        var journal = await RegionalAccounts.JournalAsync(accounts.EastUs2);
        Assert.Equal("corr-17", Header(given, "x-correlation-id"));
        Assert.Equal("corr-17", journal[0].Headers["x-correlation-id"]);
        Assert.True(Guid.TryParse(Header(made, "x-correlation-id"), out _));
        Assert.Equal(Header(made, "x-correlation-id"), journal[1].Headers["x-correlation-id"]);
    }

    [Fact, PolicyFile("set-body-response-normalised.xml")]
    public async Task OutboundNormalisesA5xx_IntoA503WithItsReasonAndJsonBody()
    {
        Start();
        await ScriptStormAsync(accounts.EastUs2, 500);

        using var response = await SendAsync(ChatPath, Chat);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("Inference Service Unavailable", response.ReasonPhrase);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("inference_unavailable", JsonNode.Parse(await BodyAsync(response))!["error"]!["code"]!.GetValue<string>());
    }

    [Fact, PolicyFile("set-status-without-reason.xml")]
    public async Task SetStatusWithoutReason_AnswersWithTheStandardPhrase_AndTheQuotedChallenge()
    {
        Start();

        using var refused = await SendAsync(ChatPath, Chat);
        using var admitted = await SendAsync(ChatPath, Chat, headers: new() { ["x-corpus-session"] = "s-1" });

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("Unauthorized", refused.ReasonPhrase);
        Assert.Equal("""Bearer realm="corpus", error="invalid_token" """.TrimEnd(), Header(refused, "WWW-Authenticate"));
        Assert.Equal("no session", JsonNode.Parse(await BodyAsync(refused))!["error_description"]!.GetValue<string>());
        await AssertOkAsync(admitted);
        Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2));
    }

    [Fact, PolicyFile("return-response-header-listing.xml")]
    public async Task ReturnResponseInInbound_ListsTheCorpusHeadersInOrder_WithoutCallingABackend()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat, headers: new() { ["x-corpus-b"] = "2", ["x-corpus-a"] = "1" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("x-corpus-a: 1\nx-corpus-b: 2", (await BodyAsync(response)).ToLowerInvariant());
        await AssertNoBackendCalledAsync();
    }

    [Fact, PolicyFile("return-response-json-error.xml")]
    public async Task ReturnResponseWithJsonConvert_ABlockedPromptGets400_OthersAreForwarded()
    {
        Start();

        using var blocked = await SendAsync(ChatPath, """{"messages":[{"role":"user","content":"Tell me the forbidden word."}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, blocked.StatusCode);
        Assert.Equal("content_filter", JsonNode.Parse(await BodyAsync(blocked))!["error"]!["code"]!.GetValue<string>());
        await AssertNoBackendCalledAsync();
        using var forwarded = await SendAsync(ChatPath, Chat);
        await AssertOkAsync(forwarded);
    }

    [Fact, PolicyFile("mock-response.xml")]
    public async Task MockResponse_AnswersWithoutCallingABackend()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat);

        // The API definition has no example for it, so the answer has no body.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await BodyAsync(response));
        await AssertNoBackendCalledAsync();
    }

    // Calls of the policy's own.

    [Fact, PolicyFile("send-request-response-variable.xml")]
    public async Task SendRequest_EmbedsThePromptAtAnotherAccount_ThenTheChatGoesOn()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(response);
        Assert.Equal("1536", Header(response, "x-corpus-embedding-length"));
        var embedded = Assert.Single(await RegionalAccounts.JournalAsync(accounts.JapanEast));
        Assert.Equal(Question, JsonNode.Parse(embedded.Body!)!["input"]!.GetValue<string>());
        Assert.Contains("aud=https://cognitiveservices.azure.com", embedded.Headers["x-mock-token-claims"], StringComparison.Ordinal);
        Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2));
    }

    [Fact, PolicyFile("send-one-way-request.xml")]
    public async Task SendOneWayRequest_TheAuditCallArrives_TheClientDoesNotWaitForIt()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(response);
        var requestId = Header(response, "x-corpus-request-id");
        var waited = Stopwatch.StartNew();
        JournalEntry? audit = null;
        while (audit is null && waited.Elapsed < TestTimeouts.Request)
        {
            audit = (await RegionalAccounts.JournalAsync(accounts.JapanEast)).SingleOrDefault(e => e.Headers.TryGetValue("x-corpus-audit", out var id) && id == requestId);
            await Task.Delay(50);
        }

        Assert.NotNull(audit);
        Assert.Equal("audit ChatCompletions_Create", JsonNode.Parse(audit.Body!)!["input"]!.GetValue<string>());
    }

    // Security: CORS, tokens, identities, connections.

    [Fact, PolicyFile("cors.xml")]
    public async Task Cors_APreflightIsAnsweredWithoutAKey_AndTheActualCallGetsTheAllowHeaders()
    {
        const string Origin = "https://chat.contoso.example";
        Start();

        using var preflight = await SendAsync(ChatPath, method: HttpMethod.Options, key: false, headers: new()
        {
            ["Origin"] = Origin,
            ["Access-Control-Request-Method"] = "POST",
            ["Access-Control-Request-Headers"] = "api-key,content-type",
        });
        using var actual = await SendAsync(ChatPath, Chat, headers: new() { ["Origin"] = Origin });

        Assert.Equal(HttpStatusCode.OK, preflight.StatusCode);
        Assert.Equal(Origin, Header(preflight, "Access-Control-Allow-Origin"));
        Assert.Equal("300", Header(preflight, "Access-Control-Max-Age"));
        Assert.Equal("true", Header(preflight, "Access-Control-Allow-Credentials"));
        await AssertOkAsync(actual);
        Assert.Equal(Origin, Header(actual, "Access-Control-Allow-Origin"));
        Assert.Equal("x-ms-region", Header(actual, "Access-Control-Expose-Headers"));
        Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2));
    }

    [Fact, PolicyFile("cors-wildcards.xml")]
    public async Task CorsWildcards_AnyOriginMethodAndHeader_AreAllowed_WithoutCredentials()
    {
        const string Origin = "https://elsewhere.example";
        Start();

        using var preflight = await SendAsync(EmbeddingsPath, method: HttpMethod.Options, key: false, headers: new()
        {
            ["Origin"] = Origin,
            ["Access-Control-Request-Method"] = "POST",
            ["Access-Control-Request-Headers"] = "api-key,content-type,x-anything",
        });
        using var actual = await SendAsync(EmbeddingsPath, Embeddings, headers: new() { ["Origin"] = Origin });

        Assert.Equal(HttpStatusCode.OK, preflight.StatusCode);
        Assert.Equal("*", Header(preflight, "Access-Control-Allow-Origin"));
        Assert.Null(Header(preflight, "Access-Control-Allow-Credentials"));
        await AssertOkAsync(actual);
        Assert.Equal("*", Header(actual, "Access-Control-Allow-Origin"));
    }

    [Fact, PolicyFile("validate-jwt-required-claims.xml")]
    public async Task ValidateJwt_NoTokenOrAMissingRole_Gets401_AValidTokensNameReachesTheResponse()
    {
        Start();

        using var none = await SendAsync(ChatPath, Chat);
        using var wrongRole = await SendAsync(ChatPath, Chat, headers: new() { ["Authorization"] = "Bearer " + SignedToken("corpus.writer") });
        using var valid = await SendAsync(ChatPath, Chat, headers: new() { ["Authorization"] = "Bearer " + SignedToken("corpus.reader") });

        foreach (var refused in new[] { none, wrongRole })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("Unauthorized", JsonNode.Parse(await BodyAsync(refused))!["message"]!.GetValue<string>());
        }

        await AssertOkAsync(valid);
        Assert.Equal("Ada", Header(valid, "x-corpus-caller"));
        Assert.Contains("aud=https://cognitiveservices.azure.com", Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2)).Headers["x-mock-token-claims"], StringComparison.Ordinal);
    }

    [Fact, PolicyFile("jwt-caller-id.xml")]
    public async Task CallerIdFromAnUnvalidatedToken_AppIdThenAzp_ElseTheSubscription()
    {
        Start();

        using var appId = await SendAsync(ChatPath, Chat, headers: new() { ["Authorization"] = "Bearer " + UnsignedToken("""{"appid":"corpus-app"}""") });
        using var azp = await SendAsync(ChatPath, Chat, headers: new() { ["Authorization"] = "Bearer " + UnsignedToken("""{"azp":"corpus-azp"}""") });
        using var none = await SendAsync(ChatPath, Chat);

        foreach (var response in new[] { appId, azp, none })
        {
            await AssertOkAsync(response);
        }

        Assert.Equal("corpus-app|corpus-app", Header(appId, "x-corpus-caller"));
        Assert.Equal("corpus-azp|corpus-azp", Header(azp, "x-corpus-caller"));
        Assert.Equal("chat-app|chat-app", Header(none, "x-corpus-caller"));
    }

    [Fact, PolicyFile("managed-identity-client-id.xml")]
    public async Task ManagedIdentityWithClientId_TheBackendGetsThatIdentitysToken()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(response);
        Assert.Equal("test-client-id", Header(response, "x-corpus-token-app"));
        Assert.Contains("appid=test-client-id", Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2)).Headers["x-mock-token-claims"], StringComparison.Ordinal);
    }

    [Fact, PolicyFile("managed-identity-outbound.xml")]
    public async Task ManagedIdentityInOutbound_GetsATokenForAnotherResource()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(response);
        Assert.Equal("https://monitor.azure.com/", Header(response, "x-corpus-monitor-audience"));
    }

    [Fact, PolicyFile("get-authorization-context.xml")]
    public async Task GetAuthorizationContext_AKnownConnectionsTokenReachesTheBackend_AnUnknownOneGetsOnErrors401()
    {
        Start(settings: new() { ["Apim:Connections:github:corpus-user:AccessToken"] = "gho-corpus-token" });

        using var known = await SendAsync(ChatPath, Chat, headers: new() { ["providerId"] = "github", ["authorizationId"] = "corpus-user" });
        using var unknown = await SendAsync(ChatPath, Chat, headers: new() { ["providerId"] = "github", ["authorizationId"] = "nobody" });

        await AssertOkAsync(known);
        Assert.Equal("Bearer gho-corpus-token", Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2)).Headers["x-corpus-upstream-authorization"]);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal("OAuth Authorization Failed", unknown.ReasonPhrase);
        var error = JsonNode.Parse(await BodyAsync(unknown))!;
        Assert.Equal("oauth_authorization_failed", error["error"]!.GetValue<string>());
        Assert.Equal("ConnectionNotFound", error["reason"]!.GetValue<string>());
    }

    [Fact, PolicyFile("check-header.xml")]
    public async Task CheckHeader_AListedValueInAnyCasePasses_OthersGetTheConfiguredCodeAndMessage()
    {
        Start();

        using var listed = await SendAsync(ChatPath, Chat, headers: new() { ["x-corpus-tenant"] = "CONTOSO" });
        using var other = await SendAsync(ChatPath, Chat, headers: new() { ["x-corpus-tenant"] = "northwind" });
        using var missing = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(listed);
        foreach (var refused in new[] { other, missing })
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("Unknown tenant", JsonNode.Parse(await BodyAsync(refused))!["message"]!.GetValue<string>());
        }
    }

    // Tracing.

    [Fact, PolicyFile("trace-metadata.xml")]
    public async Task Trace_MessagesReachTheLog_AndMetadataTheRequestsSpan()
    {
        var events = new List<ActivityEvent>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == global::Gateway.Pipeline.GatewayTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (events)
                {
                    events.AddRange(activity.Events.Where(e => e.Name == "trace" && e.Tags.Any(t => t.Key == "apim.trace.source" && (string?)t.Value == "CorpusInference")));
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        Start(services: CaptureLogs);

        using var response = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(response);
        var traces = Gateway.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Category == "Gateway.Policies.Trace").Select(r => r.Message).ToList();
        Assert.Contains(traces, m => m.StartsWith("Policy trace from CorpusInference: Accepted|requestId=", StringComparison.Ordinal));
        Assert.Contains(traces, m => m.StartsWith("Policy trace from CorpusInference: Attempt|1|status=200", StringComparison.Ordinal));
        Assert.Contains(traces, m => m.StartsWith("Policy trace from CorpusInference:  (request", StringComparison.Ordinal));
        List<ActivityEvent> recorded;
        lock (events)
        {
            recorded = [.. events];
        }

        Assert.Contains(recorded, e => e.Tags.Any(t => t.Key == "apim.trace.metadata.EventName" && (string?)t.Value == "Accepted"));
        Assert.Contains(recorded, e => e.Tags.Any(t => t.Key == "apim.trace.metadata.Attempt" && (string?)t.Value == "1"));
        Assert.Contains(recorded, e => e.Tags.Any(t => t.Key == "apim.trace.metadata.Status" && (string?)t.Value == "200"));
    }

    [Fact, PolicyFile("context-trace.xml")]
    public async Task ContextTrace_FromACatchBlock_ReachesTheLog()
    {
        Start(services: CaptureLogs);

        using var unreadable = await SendAsync(ChatPath, Chat, headers: new() { ["x-corpus-number"] = "forty-two" });
        using var readable = await SendAsync(ChatPath, Chat, headers: new() { ["x-corpus-number"] = "42" });

        await AssertOkAsync(unreadable);
        await AssertOkAsync(readable);

        // Whether the request is traced depends on who listens in this process (other tests' telemetry may), not on the policy.
        Assert.Matches("^unreadable/(un)?traced$", Header(unreadable, "x-corpus-number"));
        Assert.Matches("^42/(un)?traced$", Header(readable, "x-corpus-number"));
        var traced = Assert.Single(Gateway.Services.GetFakeLogCollector().GetSnapshot(), r => r.Category == "Gateway.Policies.Trace");
        Assert.StartsWith("Policy trace from context.Trace: Corpus number could not be read: ", traced.Message, StringComparison.Ordinal);
    }

    // Expression patterns.

    [Fact, PolicyFile("body-as-jobject-stream-flag.xml")]
    public async Task BodyAsJObjectPositional_TellsAStreamFromAWholeAnswer_AndTheStreamStillFlows()
    {
        Start();

        using var streamed = await SendAsync(ChatPath, StreamedChat, stream: true);
        using var whole = await SendAsync(ChatPath, Chat);

        Assert.Equal("True", Header(streamed, "x-corpus-stream"));
        Assert.EndsWith("data: [DONE]\n\n", await BodyAsync(streamed), StringComparison.Ordinal);
        await AssertOkAsync(whole);
        Assert.Equal("False", Header(whole, "x-corpus-stream"));
    }

    [Fact, PolicyFile("variables-get-value-or-default.xml")]
    public async Task VariablesGetValueOrDefault_EveryForm()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(response);
        Assert.Equal("corpus|none|42|7|True|False|gold|corpus|corpus|True|True", Header(response, "x-corpus-variables"));
    }

    [Fact, PolicyFile("headers-get-value-or-default.xml")]
    public async Task HeadersGetValueOrDefault_OneAndTwoArguments_TheIndexer_TheResponsesHeader_AndTheHost()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat, headers: new() { ["x-user-id"] = "u-17", ["x-corpus-team"] = "blue", ["x-corpus-list"] = "alpha" });
        using var defaults = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(response);
        await AssertOkAsync(defaults);
        Assert.Equal("u-17|blue|alpha|eastus2|unknown|False", Header(response, "x-corpus-headers"));
        Assert.Equal("N/A|none||eastus2|unknown|False", Header(defaults, "x-corpus-headers"));
        Assert.Equal($"http://{Gateway.Url.Authority}", Header(response, "x-corpus-self"));
    }

    [Fact, PolicyFile("context-members.xml")]
    public async Task ContextMembers_AsTheSamplesReadThem()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(response);
        Assert.Equal(
            "chat-app|chat-app|azure-openai|Azure OpenAI|ChatCompletions_Create|ChatCompletions_Create|no-product|no-user|local|local-apim|POST|gpt-4o|2024-10-21|127.0.0.1|ip",
            Header(response, "x-corpus-members"));
        Assert.Matches("^[0-9a-f]{12}$", Header(response, "x-corpus-request-id"));
    }

    [Fact, PolicyFile("encrypt-decrypt.xml")]
    public async Task EncryptDecryptAes_TheTokenDecryptsWithTheNamedKey_AndRoundTrips()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat, headers: new() { ["x-corpus-session"] = "session-42" });

        await AssertOkAsync(response);
        Assert.Equal("session-42", Header(response, "x-corpus-session"));
        using var aes = Aes.Create();
        aes.Key = EncryptionKey;
        var plain = aes.DecryptCbc(Convert.FromBase64String(Header(response, "x-corpus-session-token")!), EncryptionIv);
        Assert.Equal("session-42", Encoding.UTF8.GetString(plain));
    }

    [Fact, PolicyFile("linq-over-messages.xml")]
    public async Task LinqOverTheMessages_CountsFiltersAndJoins()
    {
        Start();
        const string Conversation = """
            {"messages":[
              {"role":"system","content":"Be brief."},
              {"role":"user","content":"Where is "},
              {"role":"assistant","content":"Which one?"},
              {"role":"user","content":"the harbour?"}],"max_tokens":5}
            """;

        using var response = await SendAsync(ChatPath, Conversation);

        await AssertOkAsync(response);
        var characters = "Be brief.".Length + "Where is ".Length + "Which one?".Length + "the harbour?".Length;
        Assert.Equal($"4|2|True|Be brief.|Where is the harbour?|{characters}", Header(response, "x-corpus-messages"));
    }

    [Fact, PolicyFile("regex-verbatim-string.xml")]
    public async Task RegexWithAVerbatimPattern_ExtractsTheApiId_OrTheRequestIsRefused()
    {
        Start();

        using var named = await SendAsync(ChatPath, Chat, headers: new() { ["x-corpus-api-name"] = "Orders (api-246)" });
        using var unnamed = await SendAsync(ChatPath, Chat, headers: new() { ["x-corpus-api-name"] = "Orders" });

        await AssertOkAsync(named);
        Assert.Equal("api-246", Header(named, "X-Api-Id"));
        Assert.Equal(HttpStatusCode.BadRequest, unnamed.StatusCode);
        Assert.Equal("no api id", await BodyAsync(unnamed));
    }

    [Fact, PolicyFile("string-concatenation.xml")]
    public async Task StringConcatenation_AcrossAMultiLineAttribute()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(response);
        Assert.Equal("Attempts|count=2|retry=yes|deployment=gpt-4o|status=200", Header(response, "x-corpus-line"));
    }

    [Fact, PolicyFile("string-interpolation.xml")]
    public async Task StringInterpolation_InCacheKeysValuesAndElementText_WithANamedValueInside()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat, headers: new() { ["x-corpus-tenant"] = "fabrikam" });

        await AssertOkAsync(response);
        Assert.Equal("fabrikam:gpt-4o@corpus-label?status=200", Header(response, "x-corpus-interpolated"));
    }

    [Fact, PolicyFile("attribute-quoting.xml")]
    public async Task AttributeQuoting_RawEscapedAndSingleQuoted_AllEvaluate()
    {
        Start();

        using var streamed = await SendAsync(ChatPath, StreamedChat, stream: true);
        using var whole = await SendAsync(ChatPath, """{"messages":[{"role":"user","content":"Hi"}],"max_tokens":50}""");

        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.Equal("stream|small|True", Header(streamed, "x-corpus-quoting"));
        await AssertOkAsync(whole);
        Assert.Equal("whole|large|True", Header(whole, "x-corpus-quoting"));
    }

    [Fact, PolicyFile("multiline-block-with-comments.xml")]
    public async Task MultiLineBlocksWithComments_BuildAJArrayAndAJObject()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(response);
        Assert.Equal("""{"first":"eastus2","count":2}|True""", Header(response, "x-corpus-plan"));
    }

    [Fact, PolicyFile("sha256-request-signature.xml")]
    public async Task RequestSigning_TheBackendGetsTheBodysSha256AndAnHmacOverIt()
    {
        Start();

        using var response = await SendAsync(ChatPath, Chat);

        await AssertOkAsync(response);
        var received = Assert.Single(await RegionalAccounts.JournalAsync(accounts.EastUs2));
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Chat)));
        Assert.Equal(hash, received.Headers["x-corpus-content-sha256"]);
        Assert.Equal(Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(SigningSecret), Encoding.UTF8.GetBytes("POST\ngpt-4o\n" + hash))), received.Headers["x-corpus-signature"]);
        Assert.Matches("^[0-9]{8}T[0-9]{6}Z$", received.Headers["x-corpus-date"]);
    }

    [GeneratedRegex("^<!-- Pattern: .+\\. Family: .+\\. -->$")]
    private static partial Regex FirstLine();

    [GeneratedRegex("<include-fragment fragment-id=\"([^\"]+)\"")]
    private static partial Regex IncludedFragment();

    private static void CaptureLogs(IServiceCollection services)
    {
        // Every category at every level, whatever the gateway's configuration says (its verbose traces are Debug).
        services.AddFakeLogging();
        services.PostConfigure<LoggerFilterOptions>(options =>
        {
            options.Rules.Clear();
            options.MinLevel = LogLevel.Trace;
        });
    }

    private static async Task<string> BodyAsync(HttpResponseMessage response) => await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request);

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : null;

    /// <summary>Asserts a 200 and returns the JSON body.</summary>
    private static async Task<JsonNode> AssertOkAsync(HttpResponseMessage response)
    {
        var body = await BodyAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {response.ReasonPhrase}: {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>An HS256 token the corpus's validate-jwt accepts, named Ada, with <paramref name="role"/>.</summary>
    private string SignedToken(string role)
    {
        var now = accounts.Time.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = new Dictionary<string, object> { ["name"] = "Ada", ["roles"] = new[] { role } },
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddHours(1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(JwtKey), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>A token with <paramref name="payload"/> and a signature nobody checks.</summary>
    private static string UnsignedToken(string payload) =>
        Base64UrlEncoder.Encode("""{"alg":"HS256","typ":"JWT"}""") + "." + Base64UrlEncoder.Encode(payload) + "." + Base64UrlEncoder.Encode("not-checked");

    private async Task AssertNoBackendCalledAsync()
    {
        foreach (var account in accounts.All)
        {
            Assert.Empty(await RegionalAccounts.JournalAsync(account));
        }
    }

    /// <summary>Makes <paramref name="account"/> answer every gpt-4o call with <paramref name="status"/> (a 429 with Retry-After: 10).</summary>
    private Task ScriptStormAsync(LoopbackAccount account, int status)
    {
        var retryAfter = status == 429 ? """, "Retry-After": "10" """ : "";
        return accounts.ScriptAsync(account, $$$"""
            { "StatusCode": {{{status}}}, "Headers": { "Content-Type": "application/json"{{{retryAfter}}} }, "Body": "{\"error\":{\"code\":\"{{{status}}}\",\"message\":\"Scripted.\"}}" }
            """);
    }

    private async Task<HttpResponseMessage> SendAsync(string path, string? json = null, HttpMethod? method = null, Dictionary<string, string>? headers = null, bool stream = false, bool key = true)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Post, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (key)
        {
            request.Headers.Add("api-key", InProcessGateway.ChatAppKey);
        }

        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await _client.SendAsync(request, stream ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead).WaitAsync(TestTimeouts.Request);
    }

    /// <summary>
    /// Lays out the shipped apim/ with the calling test's corpus file as the API policy and the corpus fragments beside
    /// the shipped ones, and starts a gateway on it in front of the accounts, with the corpus's named values; with
    /// <paramref name="backendCredentials"/>, every single backend logs in with the gateway's managed identity (topology
    /// <c>credentials</c>).
    /// </summary>
    private void Start(bool backendCredentials = false, Dictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, bool embeddingsBackend = false, Uri? contentSafety = null, [CallerMemberName] string test = "")
    {
        var file = typeof(PolicyCorpusTests).GetMethod(test)!.GetCustomAttribute<PolicyFileAttribute>()!.File;
        CopyFolder(InProcessGateway.ShippedApimPath, _apim);
        File.Copy(Path.Combine(CorpusPath, file), Path.Combine(_apim, "apis", "azure-openai", "policy.xml"), overwrite: true);
        CopyFolder(Path.Combine(CorpusPath, "fragments"), Path.Combine(_apim, "fragments"));
        if (backendCredentials)
        {
            AddBackendCredentials(Path.Combine(_apim, "topology.json"));
        }

        if (embeddingsBackend)
        {
            AddEmbeddingsBackend(Path.Combine(_apim, "topology.json"), accounts.EastUs2.Http.BaseAddress!);
        }

        if (contentSafety is not null)
        {
            AddContentSafetyBackend(Path.Combine(_apim, "topology.json"), contentSafety);
        }

        var configuration = new Dictionary<string, string?>
        {
            ["Apim:NamedValues:corpus-account-url"] = accounts.JapanEast.Http.BaseAddress!.ToString().TrimEnd('/'),
            ["Apim:NamedValues:corpus-backend-list"] = BackendList,
            ["Apim:NamedValues:corpus-jwt-signing-key"] = Convert.ToBase64String(JwtKey),
            ["Apim:NamedValues:corpus-encryption-key"] = Convert.ToBase64String(EncryptionKey),
            ["Apim:NamedValues:corpus-encryption-iv"] = Convert.ToBase64String(EncryptionIv),
            ["Apim:NamedValues:corpus-region-label"] = "corpus-label",
            ["Apim:NamedValues:corpus-signing-secret"] = SigningSecret,
        };
        foreach (var (name, value) in settings ?? [])
        {
            configuration[name] = value;
        }

        _gateway = InProcessGateway.InFrontOf(accounts.Time, accounts.Key, accounts.Backends, _apim, configuration, services);
        _client.BaseAddress = _gateway.Url;
    }

    private static void CopyFolder(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy, overwrite: true);
        }
    }

    /// <summary>The backend a semantic cache embeds through: its URL is the whole embeddings address of East US 2's deployment.</summary>
    private static void AddEmbeddingsBackend(string topologyPath, Uri account)
    {
        var topology = JsonNode.Parse(File.ReadAllText(topologyPath))!;
        topology["backends"]!.AsArray().Add(JsonNode.Parse($$"""
            { "id": "corpus-embeddings", "account": "aoai-eastus2", "url": "{{account.ToString().TrimEnd('/')}}/openai/deployments/text-embedding-3-small/embeddings", "protocol": "http" }
            """));
        File.WriteAllText(topologyPath, topology.ToJsonString());
    }

    /// <summary>A mock Content Safety account behind the backend <c>corpus-content-safety</c>, reached with the gateway's managed identity.</summary>
    private static void AddContentSafetyBackend(string topologyPath, Uri account)
    {
        var topology = JsonNode.Parse(File.ReadAllText(topologyPath))!;
        topology["backends"]!.AsArray().Add(JsonNode.Parse($$"""
            { "id": "corpus-content-safety", "url": "{{account.ToString().TrimEnd('/')}}", "protocol": "http",
              "credentials": { "managedIdentity": { "resource": "https://cognitiveservices.azure.com" } } }
            """));
        File.WriteAllText(topologyPath, topology.ToJsonString());
    }

    private static void AddBackendCredentials(string topologyPath)
    {
        var topology = JsonNode.Parse(File.ReadAllText(topologyPath))!;
        foreach (var backend in topology["backends"]!.AsArray().Where(b => b!["type"]?.GetValue<string>() != "Pool"))
        {
            backend!["credentials"] = JsonNode.Parse("""{ "managedIdentity": { "resource": "https://cognitiveservices.azure.com" } }""");
        }

        File.WriteAllText(topologyPath, topology.ToJsonString());
    }
}
