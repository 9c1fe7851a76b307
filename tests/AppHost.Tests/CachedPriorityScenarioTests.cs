using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace AppHost.Tests;

/// <summary>
/// The app running examples/cached-priority (over a copy of apim/ whose East US 2 chat deployment has capacity 2, so
/// two requests per 10-second window): a long expression-heavy policy with its state as a JArray in the cache, loops,
/// named values and two fragments.
/// </summary>
public sealed class CachedPriorityAppFixture : OverlayAppFixture
{
    public CachedPriorityAppFixture()
        : base("cached-priority")
    {
        var topologyPath = Path.Combine(ApimCopy, "topology.json");
        var topology = JsonNode.Parse(File.ReadAllText(topologyPath))!;
        var eastChat = topology["accounts"]!.AsArray().Single(a => (string?)a!["name"] == "aoai-eastus2")!["deployments"]!.AsArray().Single(d => (string?)d!["name"] == "gpt-4o")!;
        eastChat["sku"]!["capacity"] = 2;
        File.WriteAllText(topologyPath, topology.ToJsonString());
    }
}

[Collection(AspireAppGroup.Name)]
public sealed class CachedPriorityScenarioTests(CachedPriorityAppFixture app) : IClassFixture<CachedPriorityAppFixture>
{
    private const string East = "aoai-eastus2-gpt-4o";
    private const string Sweden = "aoai-swedencentral-gpt-4o";
    private const string Japan = "aoai-japaneast-gpt-4o";

    [SkippableFact]
    public async Task Policy_BalancesAsItsCodeSays_FailingOverOnThrottlingAndReturningAfterRetryAfter()
    {
        Skip.If(app.IsDeployed, "this scenario runs its own copy of apim/ with small quotas on the local mocks");
        await app.ClearJournalsAsync();

        // Priority 1 alone while it has room: East US 2 admits two requests per 10 s.
        var servedBy = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            servedBy.Add(await ChatAsync());
        }

        Assert.Equal([East, East], servedBy);

        // Its third request in the window is throttled: the policy records the Retry-After in the cached JArray and the
        // same request is served by priority 2, then priority 2 takes turns while East US 2 recovers.
        var throttledAt = DateTimeOffset.UtcNow;
        var failover = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            failover.Add(await ChatAsync());
        }

        var eastJournal = await app.JournalAsync("aoai-eastus2");
        Assert.Equal(3, eastJournal.Count);
        Assert.Equal([Japan, Sweden, Japan, Sweden, Japan, Sweden], failover);
        Assert.Equal(3, (await app.JournalAsync("aoai-swedencentral")).Count);
        Assert.Equal(3, (await app.JournalAsync("aoai-japaneast")).Count);

        // Once the Retry-After East US 2 sent has passed (at most its 10-second window), priority 1 serves again.
        var wait = throttledAt + TimeSpan.FromSeconds(11) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        Assert.Equal(East, await ChatAsync());
        Assert.Equal(4, (await app.JournalAsync("aoai-eastus2")).Count);
    }

    private async Task<string> ChatAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.GatewayUrl, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"))
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":3}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("api-key", LoadBalancedAppFixture.ChatAppKey);
        using var response = await app.Http.SendAsync(request).WaitAsync(LoadBalancedAppFixture.Timeout);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        Assert.Contains("chat.completion", body, StringComparison.Ordinal);
        return response.Headers.GetValues("x-served-by").Single();
    }
}
