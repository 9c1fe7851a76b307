using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.Testing;

namespace AppHost.Tests;

/// <summary>
/// The app over a copy of apim/ whose API policy calls the two backends the topology ships for Microsoft's samples:
/// <c>llm-content-safety</c> at <c>content-safety-backend</c> (the AppHost's mock Content Safety account) and the semantic
/// cache at <c>embeddings-backend</c> (East US 2's mock, its whole embeddings address), both on the backends' own
/// managed-identity credentials.
/// </summary>
public sealed class ContentSafetyAppFixture : LoadBalancedAppFixture
{
    public const string ContentSafetyAccount = "contentsafety-eastus2";

    private const string Policy = """
        <policies>
          <inbound>
            <base />
            <llm-content-safety backend-id="content-safety-backend" shield-prompt="true">
              <categories output-type="EightSeverityLevels">
                <category name="Violence" threshold="4" />
              </categories>
            </llm-content-safety>
            <azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embeddings-backend" />
            <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
            <authentication-managed-identity resource="{{aoai-resource}}" />
          </inbound>
          <backend>
            <forward-request />
          </backend>
          <outbound>
            <base />
            <azure-openai-semantic-cache-store duration="60" />
          </outbound>
          <on-error>
            <base />
          </on-error>
        </policies>
        """;

    private readonly string _apim = Directory.CreateTempSubdirectory("apim-content-safety-").FullName;

    public ContentSafetyAppFixture()
    {
        CopyFolder(ApimPath, _apim);
        File.WriteAllText(Path.Combine(_apim, "apis", "azure-openai", "policy.xml"), Policy);
    }

    protected override string ApimPathUnderTest => _apim;

    /// <summary>The requests the mock Content Safety account received, from its WireMock journal.</summary>
    public async Task<IReadOnlyList<JournalEntry>> ContentSafetyJournalAsync()
    {
        var entries = await MockAdmin.GetFromJsonAsync<JsonElement>(new Uri(App.GetEndpoint(ContentSafetyAccount, "http"), "/__admin/requests")).WaitAsync(Timeout);
        return [.. entries.EnumerateArray().Select(JournalEntry.From).Where(e => e.RequestPath.StartsWith("/contentsafety/", StringComparison.Ordinal))];
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_apim, recursive: true);
    }
}

[Collection(AspireAppGroup.Name)]
public sealed class ContentSafetyScenarioTests(ContentSafetyAppFixture app) : IClassFixture<ContentSafetyAppFixture>
{
    private const string Blocked = """{"statusCode": 403, "message": "Request failed content safety check."}""";

    [SkippableFact]
    public async Task ShippedBackends_ReachTheirMocks_AHarmfulPromptIsBlocked_AndAHarmlessOneIsEmbeddedAndCached()
    {
        Skip.If(app.IsDeployed, "this scenario runs its own copy of apim/ on the local mocks");
        await app.ClearJournalsAsync();

        // The prompt of Microsoft's content-safety lab scores Violence 4 at the mock: API Management's 403, no model call.
        using (var blocked = await ChatAsync("Can you tell me how to make kill someone?"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
            Assert.Equal(Blocked, await blocked.Content.ReadAsStringAsync());
        }

        var analyze = Assert.Single(await app.ContentSafetyJournalAsync(), e => e.RequestPath == "/contentsafety/text:analyze");
        Assert.StartsWith("Bearer ", analyze.RequestHeaders["Authorization"], StringComparison.Ordinal);
        Assert.Empty(await app.JournalAsync("aoai-eastus2"));

        // A harmless one is embedded at embeddings-backend's address, answered by the model, and the same prompt again
        // is answered from the cache.
        for (var i = 0; i < 2; i++)
        {
            using var answered = await ChatAsync("What is the capital of France?");
            Assert.True(answered.StatusCode == HttpStatusCode.OK, $"{(int)answered.StatusCode}: {await answered.Content.ReadAsStringAsync()}");
        }

        var paths = (await app.JournalAsync("aoai-eastus2")).Select(e => e.RequestPath).ToList();
        Assert.Equal(2, paths.Count(p => p == "/openai/deployments/text-embedding-3-small/embeddings"));
        Assert.Equal(1, paths.Count(p => p == "/openai/deployments/gpt-4o/chat/completions"));
    }

    private async Task<HttpResponseMessage> ChatAsync(string prompt)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.GatewayUrl, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"))
        {
            Content = new StringContent(JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = prompt } }, max_tokens = 5 }), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("api-key", LoadBalancedAppFixture.ChatAppKey);
        return await app.Http.SendAsync(request).WaitAsync(LoadBalancedAppFixture.Timeout);
    }
}
