using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Gateway.Apim.Model;

namespace AppHost.Tests;

/// <summary>
/// The app running examples/semantic-cache-content-safety over a copy of apim/: the shipped API policy unchanged, with
/// llm-content-safety and the semantic cache in the global scope, in front of the mock accounts, the mock Content Safety
/// account and the embeddings deployment of East US 2 (the mock's word-overlap embeddings, docs/mock.md).
/// </summary>
public sealed class SemanticCacheContentSafetyAppFixture() : OverlayAppFixture("semantic-cache-content-safety");

[Collection(AspireAppGroup.Name)]
public sealed class SemanticCacheContentSafetyScenarioTests(SemanticCacheContentSafetyAppFixture app) : IClassFixture<SemanticCacheContentSafetyAppFixture>
{
    private const string LocalOnly = "this scenario runs its own copy of apim/ with the example overlaid, on the local mocks";

    // Cosine distances to Question by docs/mock.md's formula (words weigh 1, adjacent pairs 0.25 in the product), as the
    // mock's 1536-dimension embeddings give them; the example's score-threshold is 0.05.
    private const string Question = "What are the opening hours of the city museum on Sundays and public holidays?";
    private const string CloseParaphrase = "Please, what are the opening hours of the city museum on Sundays and public holidays?"; // 0.030: a hit
    private const string LooseParaphrase = "Tell me the opening hours of the city museum on Sundays and public holidays."; // 0.127: a miss
    private const string Unrelated = "Recommend a good book about sailing."; // 0.92: a miss

    // "kill" is Violence 4 for the mock Content Safety account (docs/content-safety.md); the example blocks 4 and more.
    private const string Harmful = "Can you tell me how to make kill someone?";

    private const string ContentSafetyViolation = """{"statusCode": 403, "message": "Request failed content safety check."}""";

    [SkippableFact]
    public async Task SameQuestionTwice_SecondIsACacheHit_ReachesNoModel_AndCountsNoTokens()
    {
        Skip.If(app.IsDeployed, LocalOnly);
        await ResetAsync();

        // Two misses that differ only in a one-token number frame the hit: each charges the same prompt estimate, so what
        // the limit holds between them is the usage of the calls the models answered, and nothing for the hit.
        var before = await ChatAsync("Recommend 3 good books about sailing.");
        var first = await ChatAsync(Question);
        var hit = await ChatAsync(Question);
        var after = await ChatAsync("Recommend 4 good books about sailing.");
        var answered = before.TotalTokens + first.TotalTokens + after.TotalTokens;
        var emitted = await TotalTokensAsync(expected: answered);

        // The hit is the first answer, word for word, without a model call or the token limit's header.
        Assert.Equal(first.Body, hit.Body);
        Assert.Null(hit.RemainingTokens);
        Assert.Equal(3, await ModelCallsAsync("/chat/completions"));
        Assert.Equal(4, await ModelCallsAsync("/embeddings"));

        // Not counted by azure-openai-token-limit (it runs after the lookup) nor emitted by azure-openai-emit-token-metric.
        Assert.Equal(before.TotalTokens + first.TotalTokens, before.RemainingTokens - after.RemainingTokens);
        Assert.Equal(answered, emitted);
    }

    [SkippableFact]
    public async Task CloseParaphrase_Hits_WhileALooseParaphraseAnUnrelatedPromptAndAnotherSubscriptionMiss()
    {
        Skip.If(app.IsDeployed, LocalOnly);
        await ResetAsync();

        var first = await ChatAsync(Question);
        var close = await ChatAsync(CloseParaphrase);
        Assert.Equal(1, await ModelCallsAsync("/chat/completions"));
        Assert.Equal(first.Body, close.Body);

        var loose = await ChatAsync(LooseParaphrase);
        var unrelated = await ChatAsync(Unrelated);
        var otherSubscription = await ChatAsync(Question, LoadBalancedAppFixture.SearchIndexerKey);

        // Each of the three misses was answered by a model, with an answer of its own.
        Assert.Equal(4, await ModelCallsAsync("/chat/completions"));
        Assert.Equal(5, await ModelCallsAsync("/embeddings"));
        Assert.Equal(4, new[] { first.Body, loose.Body, unrelated.Body, otherSubscription.Body }.Select(Id).Distinct().Count());
    }

    [SkippableFact]
    public async Task HarmfulPrompt_GetsApiManagements403_AndReachesNeitherTheCacheNorAModel()
    {
        Skip.If(app.IsDeployed, LocalOnly);
        await ResetAsync();

        using var response = await SendChatAsync(Harmful, LoadBalancedAppFixture.ChatAppKey);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(LoadBalancedAppFixture.Timeout);
        var allowed = await ChatAsync(Question);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(ContentSafetyViolation, body);
        Assert.Contains("chat.completion", allowed.Body, StringComparison.Ordinal);

        // Only the allowed question was embedded and answered; Content Safety saw both prompts.
        Assert.Equal(1, await ModelCallsAsync("/chat/completions"));
        Assert.Equal(1, await ModelCallsAsync("/embeddings"));
        var analyzed = await ContentSafetyCallsAsync("/contentsafety/text:analyze");
        Assert.Equal(2, analyzed.Count);
        Assert.Contains(Harmful, analyzed[0], StringComparison.Ordinal);
        Assert.Contains(Question, analyzed[1], StringComparison.Ordinal);
    }

    /// <summary>The mock Content Safety account of the shipped topology, behind content-safety-backend.</summary>
    private static readonly string ContentSafetyAccount = Topology.Load(LoadBalancedAppFixture.ApimPath).ContentSafetyAccounts.Single().Name;

    private static string Id(string body) => JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

    /// <summary>A clean gateway (caches, counters) and empty journals, so each test counts only its own calls.</summary>
    private async Task ResetAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.GatewayUrl, "/_gateway/admin/reset?scope=all"));
        request.Headers.Add("x-admin-key", LoadBalancedAppFixture.AdminKey);
        using var response = await app.Http.SendAsync(request).WaitAsync(LoadBalancedAppFixture.Timeout);
        response.EnsureSuccessStatusCode();
        await app.ClearJournalsAsync();
        using var cleared = await app.MockAdmin.DeleteAsync(new Uri(ContentSafetyUrl, "/__admin/requests")).WaitAsync(LoadBalancedAppFixture.Timeout);
        cleared.EnsureSuccessStatusCode();
    }

    private Uri ContentSafetyUrl => app.App.GetEndpoint(ContentSafetyAccount, "http");

    /// <summary>The bodies of the requests to <paramref name="path"/> the mock Content Safety account journaled, oldest first.</summary>
    private async Task<IReadOnlyList<string>> ContentSafetyCallsAsync(string path)
    {
        var entries = await app.MockAdmin.GetFromJsonAsync<JsonElement>(new Uri(ContentSafetyUrl, "/__admin/requests")).WaitAsync(LoadBalancedAppFixture.Timeout);
        return [.. entries.EnumerateArray()
            .Select(e => e.GetProperty("Request"))
            .Where(r => r.GetProperty("Path").GetString() == path)
            .OrderBy(r => r.GetProperty("DateTime").GetDateTime())
            .Select(r => r.GetProperty("Body").GetString() ?? string.Empty)];
    }

    private async Task<Chat> ChatAsync(string prompt, string key = LoadBalancedAppFixture.ChatAppKey)
    {
        using var response = await SendChatAsync(prompt, key);
        var body = await response.Content.ReadAsStringAsync().WaitAsync(LoadBalancedAppFixture.Timeout);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        int? remaining = response.Headers.TryGetValues("x-gateway-remaining-tokens", out var values)
            ? int.Parse(values.Single(), CultureInfo.InvariantCulture)
            : null;
        var usage = JsonDocument.Parse(body).RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32();
        return new Chat(body, remaining, usage);
    }

    private async Task<HttpResponseMessage> SendChatAsync(string prompt, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.GatewayUrl, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"))
        {
            Content = new StringContent(
                new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }), ["max_tokens"] = 5 }.ToJsonString(),
                Encoding.UTF8,
                "application/json"),
        };
        request.Headers.Add("api-key", key);
        return await app.Http.SendAsync(request).WaitAsync(LoadBalancedAppFixture.Timeout);
    }

    /// <summary>Requests to a model path (<c>/chat/completions</c>, <c>/embeddings</c>) that reached any mock account.</summary>
    private async Task<int> ModelCallsAsync(string pathEnd)
    {
        var count = 0;
        foreach (var account in app.MockUrls.Keys)
        {
            count += (await app.JournalAsync(account)).Count(e => e.RequestPath.EndsWith(pathEnd, StringComparison.Ordinal));
        }

        return count;
    }

    /// <summary>
    /// The sum of the gateway's emitted Total Tokens (GET /_gateway/admin/state), once it is <paramref name="expected"/>:
    /// usage is emitted as the answer's body passes, which can end a moment after the client has read it. Another sum
    /// after 5 seconds is returned as it is, for the assertion to report.
    /// </summary>
    private async Task<long> TotalTokensAsync(long expected)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(app.GatewayUrl, "/_gateway/admin/state"));
            request.Headers.Add("x-admin-key", LoadBalancedAppFixture.AdminKey);
            using var response = await app.Http.SendAsync(request).WaitAsync(LoadBalancedAppFixture.Timeout);
            response.EnsureSuccessStatusCode();
            var state = await response.Content.ReadFromJsonAsync<JsonElement>().WaitAsync(LoadBalancedAppFixture.Timeout);
            var total = state.GetProperty("tokenMetrics").EnumerateArray()
                .Where(m => m.GetProperty("name").GetString() == "Total Tokens")
                .Sum(m => m.GetProperty("value").GetInt64());
            if (total == expected || DateTimeOffset.UtcNow > deadline)
            {
                return total;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
    }

    private sealed record Chat(string Body, int? RemainingTokens, int TotalTokens);
}
