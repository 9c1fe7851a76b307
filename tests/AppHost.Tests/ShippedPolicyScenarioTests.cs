using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace AppHost.Tests;

/// <summary>
/// The shipped policy and topology of apim/, with small quotas so that the mocks throttle: gpt-4o in East US 2 takes two
/// requests per 10 seconds, in Sweden Central and Japan East one each (their pool weights made equal, so the priority-2
/// group takes turns); each subscription may use 400 tokens a minute.
/// </summary>
public sealed class ShippedPolicyAppFixture : LoadBalancedAppFixture
{
    public const int TokensPerMinute = 400;

    private readonly string _apim = Directory.CreateTempSubdirectory("apim-shipped-").FullName;

    public ShippedPolicyAppFixture()
    {
        CopyFolder(ApimPath, _apim);

        var topologyPath = Path.Combine(_apim, "topology.json");
        var topology = JsonNode.Parse(File.ReadAllText(topologyPath))!;
        foreach (var (account, capacity) in new[] { ("aoai-eastus2", 2), ("aoai-swedencentral", 1), ("aoai-japaneast", 1) })
        {
            var chat = topology["accounts"]!.AsArray().Single(a => (string?)a!["name"] == account)!["deployments"]!.AsArray().Single(d => (string?)d!["name"] == "gpt-4o")!;
            chat["sku"]!["capacity"] = capacity;
        }

        var pool = topology["backends"]!.AsArray().Single(b => (string?)b!["id"] == "gpt-4o-pool")!;
        foreach (var member in pool["pool"]!["services"]!.AsArray())
        {
            member!["weight"] = 1;
        }

        File.WriteAllText(topologyPath, topology.ToJsonString());
    }

    protected override string ApimPathUnderTest => _apim;

    protected override IEnumerable<string> ExtraArguments => ["--Apim:NamedValues:subscription-tokens-per-minute=" + TokensPerMinute];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_apim, recursive: true);
    }
}

/// <summary>Issue 5's scenarios against the mocks, through the shipped policy: failover, exhaustion, recovery, token limits.</summary>
[Collection(AspireAppGroup.Name)]
public sealed class ShippedPolicyScenarioTests(ShippedPolicyAppFixture app) : IClassFixture<ShippedPolicyAppFixture>
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private const string EmbeddingsPath = "/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21";

    [SkippableFact]
    public async Task Throttling_FailsOverWithinTheRequest_ExhaustionGives429WithRetryAfter_AndRecoveryIsServed()
    {
        Skip.If(app.IsDeployed, "this scenario runs its own copy of apim/ with small quotas on the local mocks");
        await app.ClearJournalsAsync();
        var start = DateTimeOffset.UtcNow;

        // Priority 1 alone while it has room.
        var first = await SendAsync(ChatPath, ChatBody);
        var second = await SendAsync(ChatPath, ChatBody);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK], new[] { first.Status, second.Status });
        Assert.Equal(2, await ChatsReceivedAsync("aoai-eastus2"));

        // East US 2's 429 trips its breaker for its Retry-After; the same request is served by priority 2, and so is the
        // next: no client sees an error while a backend has room.
        var throttledAt = DateTimeOffset.UtcNow;
        var third = await SendAsync(ChatPath, ChatBody);
        var fourth = await SendAsync(ChatPath, ChatBody);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK], new[] { third.Status, fourth.Status });
        Assert.Equal(3, await JournalCountAsync("aoai-eastus2", "/chat/completions"));
        Assert.Equal(1, await ChatsReceivedAsync("aoai-swedencentral"));
        Assert.Equal(1, await ChatsReceivedAsync("aoai-japaneast"));

        // The chat deployment's breaker leaves East US 2's embeddings deployment serving.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(EmbeddingsPath, """{"input":"a short document"}""")).Status);
        }

        Assert.True(await JournalCountAsync("aoai-eastus2", "/embeddings") > 0, "East US 2 served no embeddings while its chat deployment was tripped");

        // Priority 2 is used up too: the pool is exhausted and the client gets 429 with a Retry-After no later than the
        // soonest recovery (East US 2's, at most 10 s after it was throttled).
        var exhausted = await SendAsync(ChatPath, ChatBody);
        var exhaustedAt = DateTimeOffset.UtcNow;
        Assert.Equal((HttpStatusCode)429, exhausted.Status);
        var retryAfter = int.Parse(exhausted.RetryAfter!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, (int)Math.Ceiling((throttledAt + TimeSpan.FromSeconds(10) - exhaustedAt).TotalSeconds) + 1);
        Assert.Contains("\"code\":\"429\"", exhausted.Body, StringComparison.Ordinal);

        // The first request after that Retry-After succeeds, on priority 1 again.
        await Task.Delay(TimeSpan.FromSeconds(retryAfter) + TimeSpan.FromMilliseconds(200));
        var recovered = await SendAsync(ChatPath, ChatBody);
        Assert.True(recovered.Status == HttpStatusCode.OK, $"{(int)recovered.Status} {recovered.Body} after waiting {retryAfter} s ({(DateTimeOffset.UtcNow - start).TotalSeconds:F1} s in)");
        Assert.Equal(4, await ChatsReceivedAsync("aoai-eastus2"));
    }

    [SkippableFact]
    public async Task TokenLimit_ASubscriptionOverItsTokensPerMinute_Gets429WithRetryAfter_TheOtherIsServed()
    {
        Skip.If(app.IsDeployed, "this scenario runs its own copy of apim/ with small quotas on the local mocks");
        // Each embeddings request counts its prompt, about 200 tokens: the third passes 400 in the minute.
        var input = string.Join(' ', Enumerable.Repeat("tokens", 200));
        var body = $$"""{"input":"{{input}}"}""";
        var statuses = new List<HttpStatusCode>();
        (HttpStatusCode Status, string? RetryAfter, string Body) limited = default;
        for (var i = 0; i < 4 && limited.Status != (HttpStatusCode)429; i++)
        {
            limited = await SendAsync(EmbeddingsPath, body, LoadBalancedAppFixture.ChatAppKey);
            statuses.Add(limited.Status);
        }

        var other = await SendAsync(EmbeddingsPath, """{"input":"short"}""", LoadBalancedAppFixture.SearchIndexerKey);

        Assert.Equal((HttpStatusCode)429, limited.Status);
        Assert.InRange(statuses.Count, 2, 3);
        var retryAfter = int.Parse(limited.RetryAfter!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 60);
        Assert.Equal($$"""{ "statusCode": 429, "message": "Token limit is exceeded. Try again in {{retryAfter}} seconds." }""", limited.Body);
        Assert.Equal(HttpStatusCode.OK, other.Status);
    }

    private const string ChatBody = """{"messages":[{"role":"user","content":"hi"}],"max_tokens":3}""";

    private async Task<(HttpStatusCode Status, string? RetryAfter, string Body)> SendAsync(string path, string body, string key = LoadBalancedAppFixture.SearchIndexerKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.GatewayUrl, path)) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("api-key", key);
        using var response = await app.Http.SendAsync(request).WaitAsync(LoadBalancedAppFixture.Timeout);
        return (response.StatusCode, response.Headers.TryGetValues("Retry-After", out var values) ? values.Single() : null, await response.Content.ReadAsStringAsync());
    }

    private async Task<int> ChatsReceivedAsync(string account) =>
        (await app.JournalAsync(account)).Count(e => e.RequestPath.EndsWith("/chat/completions", StringComparison.Ordinal));

    private async Task<int> JournalCountAsync(string account, string suffix) =>
        (await app.JournalAsync(account)).Count(e => e.RequestPath.EndsWith(suffix, StringComparison.Ordinal));
}
