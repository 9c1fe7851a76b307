using System.Net;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public sealed class SetQueryParameterPolicyTests : IAsyncLifetime
{
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Theory]
    [InlineData("""exists-action="override" """, "api-version=2024-10-21&team=policy&added=new")]
    [InlineData("", "api-version=2024-10-21&team=policy&added=new")]
    [InlineData("""exists-action="skip" """, "api-version=2024-10-21&team=client&added=new")]
    [InlineData("""exists-action="append" """, "api-version=2024-10-21&team=client&team=policy&added=new")]
    [InlineData("""exists-action="delete" """, "api-version=2024-10-21")]
    [Covers("set-query-parameter", "name", "exists-action")]
    public async Task SetQueryParameter_ExistingParameter_IsOverriddenKeptAppendedOrDeleted(string action, string query) =>
        Assert.Equal("/openai/deployments/gpt-4o/chat/completions?" + query, await ForwardedPathAndQueryAsync($"""
            <set-query-parameter name="team" {action}><value>policy</value></set-query-parameter>
            <set-query-parameter name="added" {action}><value>new</value></set-query-parameter>
            """));

    [Theory]
    [InlineData("", "api-version=2024-10-21")]
    [InlineData("""<set-query-parameter name="added"><value>new</value></set-query-parameter>""", "api-version=2024-10-21&added=new")]
    public async Task SetQueryParameter_Delete_MatchesTheNameInAnyCase_BeforeOrAfterOtherChanges(string before, string query) =>
        Assert.Equal("/openai/deployments/gpt-4o/chat/completions?" + query, await ForwardedPathAndQueryAsync($"""
            {before}
            <set-query-parameter name="TEAM" exists-action="delete" />
            <set-query-parameter name="absent" exists-action="delete" />
            """));

    [Theory]
    [InlineData("api-version=2024-10-21&te%61m=client&x=%2B1", "api-version=2024-10-21&x=%2B1")]
    [InlineData("api-version=2024-10-21&Team", "api-version=2024-10-21")]
    [InlineData("api-version=2024-10-21&team+x=1&x=%2b1", "api-version=2024-10-21&team+x=1&x=%2b1")]
    [InlineData("api-version=2024-10-21&teamx=1&x=%2b1", "api-version=2024-10-21&teamx=1&x=%2b1")]
    [Covers("set-query-parameter", "exists-action")]
    public async Task SetQueryParameter_Delete_FindsTheNameDecoded_AndLeavesAQueryWithoutItAsItCame(string query, string forwarded) =>
        // Found (an encoded name, a name without a value): the query is rebuilt without it (and encoded anew). Not found
        // (a name with a space, a longer name): the query goes on exactly as it came, its encoding included.
        Assert.Equal("/openai/deployments/gpt-4o/chat/completions?" + forwarded, await ForwardedPathAndQueryAsync("""
            <set-query-parameter name="team" exists-action="delete" />
            """, query));

    /// <summary>What the backend gets for a call with <paramref name="query"/> after <paramref name="inbound"/>.</summary>
    private async Task<string> ForwardedPathAndQueryAsync(string inbound, string query = "api-version=2024-10-21&team=client")
    {
        using var apim = new TestApim($$"""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
                {{inbound}}
              </inbound>
              <backend>
                <forward-request buffer-response="false" />
              </backend>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var response = await factory.CreateClient().PostChatAsync("/openai/deployments/gpt-4o/chat/completions?" + query);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Assert.Single(_backend.Requests).PathAndQuery;
    }
}
