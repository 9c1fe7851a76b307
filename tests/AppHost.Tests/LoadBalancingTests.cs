using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Net;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using Azure.AI.OpenAI;
using Gateway.Apim.Model;
using OpenAI.Chat;

namespace AppHost.Tests;

/// <summary>The article's load balancer end to end: the official SDK, the gateway running the shipped policy, three mock accounts.</summary>
[Collection(AspireAppGroup.Name)]
public sealed class LoadBalancingTests(LoadBalancedAppFixture app) : IClassFixture<LoadBalancedAppFixture>
{
    internal const string MissingKeyBody = """{"statusCode": 401, "message": "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."}""";
    internal const string InvalidKeyBody = """{"statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."}""";
    private static readonly TimeSpan Timeout = LoadBalancedAppFixture.Timeout;

    /// <summary>What Azure OpenAI (and each mock) reports in <c>model</c> for the gpt-4o deployment: its model and version as the topology deploys them.</summary>
    private static readonly string ChatModel = ReportedModel(Topology.Load(LoadBalancedAppFixture.ApimPath).Accounts[0].Deployments.Single(d => d.Name == "gpt-4o").Model);

    [SkippableFact]
    public async Task Sdk_ChatsStayOnPriorityOne_EmbeddingsSpreadOverEveryAccount_WithBearerTokensOnly()
    {
        await app.ClearJournalsAsync();
        var client = Client(app.Key);
        var chat = client.GetChatClient("gpt-4o");
        var embeddings = client.GetEmbeddingClient("text-embedding-3-small");

        // Each completion takes the mocks' per-token time (16 tokens at 50 ms): six at a time.
        var completions = new ChatCompletion[30];
        await Parallel.ForAsync(0, 30, new ParallelOptions { MaxDegreeOfParallelism = 6 }, async (i, cancellation) =>
            completions[i] = await chat.CompleteChatAsync([new UserChatMessage($"Question {i}: how are requests balanced?")], cancellationToken: cancellation).WaitAsync(Timeout, cancellation));
        foreach (var completion in completions)
        {
            Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            Assert.False(string.IsNullOrWhiteSpace(completion.Content[0].Text));
            Assert.Equal(ChatModel, completion.Model);
            Assert.True(completion.Usage.InputTokenCount > 0 && completion.Usage.OutputTokenCount > 0);
            Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        }

        for (var i = 0; i < 40; i++)
        {
            var embedding = (await embeddings.GenerateEmbeddingAsync($"document {i}").WaitAsync(Timeout)).Value;
            var vector = embedding.ToFloats().ToArray();
            Assert.Equal(1536, vector.Length);
            Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 3);
        }

        Skip.If(app.IsDeployed, "The SDK calls above ran against the deployed gateway; where they were served " + LoadBalancedAppFixture.NeedsTheMocks);
        var served = new Dictionary<string, (int Chats, int Embeddings)>();
        foreach (var account in app.MockUrls.Keys)
        {
            var journal = await app.JournalAsync(account);
            served[account] = (journal.Count(e => e.RequestPath.EndsWith("/chat/completions", StringComparison.Ordinal)), journal.Count(e => e.RequestPath.EndsWith("/embeddings", StringComparison.Ordinal)));
            foreach (var entry in journal)
            {
                Assert.False(entry.RequestHeaders.ContainsKey("api-key"), $"{account} received an api-key header");
                Assert.DoesNotContain("api-key", entry.Url, StringComparison.OrdinalIgnoreCase);
                // The journal keeps no token (the mock checked it before recording the call), only its claims.
                Assert.Equal("Bearer [redacted]", entry.RequestHeaders["Authorization"]);
                Assert.Contains("aud=https://cognitiveservices.azure.com", entry.RequestHeaders["x-mock-token-claims"], StringComparison.Ordinal);
            }
        }

        // The shipped gpt-4o pool puts East US 2 first: while it has room (capacity 150), it takes every chat. The
        // embeddings pool has every account at priority 1, weighted 2/2/1: each serves some of the 40.
        Assert.Equal(30, served["aoai-eastus2"].Chats);
        Assert.Equal(0, served["aoai-swedencentral"].Chats + served["aoai-japaneast"].Chats);
        Assert.Equal(40, served.Values.Sum(v => v.Embeddings));
        Assert.All(served, pair => Assert.True(pair.Value.Embeddings > 0, $"{pair.Key} served no embeddings: {string.Join(", ", served)}"));
    }

    [SkippableTheory]
    [InlineData(null, MissingKeyBody)]
    [InlineData("wrong-key", InvalidKeyBody)]
    public async Task Gateway_MissingOrWrongKey_Returns401WithApimBody(string? key, string expected)
    {
        using var request = ChatRequest();
        if (key is not null)
        {
            request.Headers.Add("api-key", key);
        }

        using var response = await app.Http.SendAsync(request).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [SkippableFact]
    public async Task Gateway_ClientTraceparent_ReachesTheMockWithTheSameTraceId()
    {
        Skip.If(app.IsDeployed, LoadBalancedAppFixture.NeedsTheMocks);
        await app.ClearJournalsAsync();
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = ChatRequest();
        request.Headers.Add("api-key", LoadBalancedAppFixture.ChatAppSecondaryKey);
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

        using var response = await app.Http.SendAsync(request).WaitAsync(Timeout);

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var received = new List<JournalEntry>();
        foreach (var account in app.MockUrls.Keys)
        {
            received.AddRange(await app.JournalAsync(account));
        }

        var entry = Assert.Single(received);
        Assert.Equal(traceId, entry.RequestHeaders["traceparent"].Split('-')[1]);
    }

    [SkippableFact]
    public async Task Sdk_StreamedCompletion_ArrivesPacedNotInOneBurst()
    {
        var chat = Client(app.Key).GetChatClient("gpt-4o");

        // The mocks pace 50 ms a token: ten tokens span about 450 ms. A process that stalls for that long (the client,
        // or the gateway on a busy 2-core machine) finds every chunk waiting and reads them in one go, which looks
        // like a burst; a gateway that buffers streams bursts every time. So up to three streams are tried, and one
        // paced stream passes.
        var spreads = new List<double>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var arrivals = new List<TimeSpan>();
            var text = new StringBuilder();
            var clock = Stopwatch.StartNew();
            using var cancellation = new CancellationTokenSource(Timeout);
            await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Stream ten tokens")], new ChatCompletionOptions { MaxOutputTokenCount = 10 }, cancellation.Token))
            {
                arrivals.Add(clock.Elapsed);
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }
            }

            Assert.True(arrivals.Count >= 12, $"only {arrivals.Count} updates");
            Assert.Equal(10, text.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
            var spread = arrivals[^1] - arrivals[0];
            if (spread >= TimeSpan.FromMilliseconds(300))
            {
                return;
            }

            spreads.Add(spread.TotalMilliseconds);
        }

        Assert.Fail($"every stream arrived in one burst, within {string.Join(", ", spreads.Select(s => $"{s:F0}"))} ms");
    }

    [SkippableFact]
    public async Task ShippedPolicy_StreamedCompletion_CountsItsTokensAgainstTheSubscription()
    {
        Skip.If(app.SecondKey is null, "a deployed target needs Target:SecondSubscriptionKey for this scenario (a subscription no other scenario uses)");
        // A subscription no other test uses here: its tokens in the last minute are this test's alone.
        const string Chat = """{"messages":[{"role":"user","content":"Count my tokens"}],"max_tokens":5}""";
        var (before, first) = await PostAsync(Chat);
        var (_, stream) = await PostAsync("""{"messages":[{"role":"user","content":"Stream ten tokens"}],"max_tokens":10,"stream":true,"stream_options":{"include_usage":true}}""");
        var (after, _) = await PostAsync(Chat);

        var firstTotal = System.Text.Json.JsonDocument.Parse(first).RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32();
        var usageChunk = stream.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal) && l.Contains("\"usage\":{", StringComparison.Ordinal)).Last();
        var streamTotal = System.Text.Json.JsonDocument.Parse(usageChunk["data: ".Length..]).RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32();

        // Each response reports the tokens left once its own prompt estimate is charged; by the third request the first
        // and the stream count their actual usage, the stream's read from its last chunk as it passed.
        Assert.True(streamTotal > 10, $"stream usage {streamTotal}");
        Assert.Equal(firstTotal + streamTotal, before - after);
    }

    private async Task<(int Remaining, string Body)> PostAsync(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.GatewayUrl, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("api-key", app.SecondKey!);
        using var response = await app.Http.SendAsync(request).WaitAsync(Timeout);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return (int.Parse(response.Headers.GetValues("x-gateway-remaining-tokens").Single(), System.Globalization.CultureInfo.InvariantCulture), text);
    }

    [SkippableFact]
    public async Task Gateway_AdminState_AnswersOnlyWithTheAppHostsAdminKey()
    {
        Skip.If(app.IsDeployed, "the admin endpoints are the local gateway's; API Management has none");
        using var refused = await app.Http.GetAsync(new Uri(app.GatewayUrl, "/_gateway/admin/state")).WaitAsync(Timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(app.GatewayUrl, "/_gateway/admin/state"));
        request.Headers.Add("x-admin-key", LoadBalancedAppFixture.AdminKey);
        using var state = await app.Http.SendAsync(request).WaitAsync(Timeout);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, state.StatusCode);
        Assert.Contains("\"name\":\"rate-limit\"", await state.Content.ReadAsStringAsync().WaitAsync(Timeout), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task DashboardCommands_MockThrottleOnPriorityOne_MovesChatsToAnotherAccount_UntilMockRecover()
    {
        Skip.If(app.IsDeployed, "runs the local AppHost's dashboard commands");
        const string PriorityOne = "aoai-eastus2";
        using var cancellation = new CancellationTokenSource(Timeout);
        await app.ClearJournalsAsync();
        ExecuteCommandResult recovered, reset;
        try
        {
            // The dashboard's button, with the numbers a person would type: the priority-1 account throttles gpt-4o for a minute.
            var throttled = await DashboardCommands.RunAsync(app.App, PriorityOne, "mock-throttle", cancellation.Token, ("seconds", "120"), ("retryAfter", "30"), ("deployment", "gpt-4o"));
            Assert.True(throttled.Success, throttled.Message);
            Assert.Contains("throttle (gpt-4o) until", throttled.Message, StringComparison.Ordinal);

            // The first chat meets the 429 and the policy's retry takes it to a priority-2 member; the tripped breaker
            // (Retry-After: 30) sends the next ones there directly, unless the machine is so slow that it closes first.
            for (var i = 0; i < 4; i++)
            {
                using var request = ChatRequest();
                request.Headers.Add("api-key", LoadBalancedAppFixture.ChatAppSecondaryKey);
                using var response = await app.Http.SendAsync(request, cancellation.Token);
                Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(cancellation.Token));
            }

            // Priority 1 answered only 429s, so priority 2 served every chat.
            Assert.InRange((await app.JournalAsync(PriorityOne)).Count, 1, 4);
            Assert.Equal(4, (await app.JournalAsync("aoai-swedencentral")).Count + (await app.JournalAsync("aoai-japaneast")).Count);
            var state = await DashboardCommands.RunAsync(app.App, "gateway", "gateway-state", cancellation.Token);
            Assert.True(state.Success, state.Message);
            Assert.Contains($"{PriorityOne}-gpt-4o", state.Message, StringComparison.Ordinal);
        }
        finally
        {
            // Whatever happened above, the other tests of the class get a healthy priority 1 back.
            recovered = await DashboardCommands.RunAsync(app.App, PriorityOne, "mock-recover", cancellation.Token);
            reset = await DashboardCommands.RunAsync(app.App, "gateway", "gateway-reset", cancellation.Token, ("scope", "breakers"));
        }

        Assert.True(recovered.Success, recovered.Message);
        Assert.Equal($"{PriorityOne}: no fault in force.", recovered.Message);
        Assert.True(reset.Success, reset.Message);
        Assert.StartsWith("Reset breakers: circuit-breakers (", reset.Message, StringComparison.Ordinal);

        // Recovered, and the breaker reset: chats are priority 1's again.
        await app.ClearJournalsAsync();
        using var again = ChatRequest();
        again.Headers.Add("api-key", LoadBalancedAppFixture.ChatAppSecondaryKey);
        using var served = await app.Http.SendAsync(again, cancellation.Token);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Single(await app.JournalAsync(PriorityOne));
    }

    [SkippableFact]
    public void Gateway_UnderTest_ListensOnADynamicPortNotTheFixedDevelopmentOne()
    {
        Skip.If(app.IsDeployed, "a deployed gateway's URL is what the configuration says");
        // The fixed URL (README) belongs to `dotnet run --project AppHost`; tests must not collide with it.
        Assert.NotEqual(5080, app.GatewayUrl.Port);
    }

    private AzureOpenAIClient Client(string key) => new(
        app.GatewayUrl,
        new ApiKeyCredential(key),
        new AzureOpenAIClientOptions { RetryPolicy = new ClientRetryPolicy(maxRetries: 0), NetworkTimeout = TimeSpan.FromSeconds(60) });

    private HttpRequestMessage ChatRequest() => new(HttpMethod.Post, new Uri(app.GatewayUrl, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"))
    {
        Content = new StringContent("""{"messages":[{"role":"user","content":"hello"}]}""", Encoding.UTF8, "application/json"),
    };

    private static string ReportedModel(ModelDefinition model) => $"{model.Name}-{model.Version}";
}
