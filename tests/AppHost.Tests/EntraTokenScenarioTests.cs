using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace AppHost.Tests;

/// <summary>
/// The app with a global policy that validates Entra ID tokens (<c>validate-azure-ad-token</c>) before the shipped API
/// policy runs: the AppHost points the gateway at its own local Entra tenant, whose tokens are minted with the admin key.
/// </summary>
public sealed class EntraTokenAppFixture : LoadBalancedAppFixture
{
    public const string TenantId = "0e7ab1e5-0000-4000-8000-00000000e1a7";
    public const string ClientId = "c1c1c1c1-0000-4000-8000-000000000001";

    private readonly string _apim = Directory.CreateTempSubdirectory("apim-entra-").FullName;

    public EntraTokenAppFixture()
    {
        CopyFolder(ApimPath, _apim);
        File.WriteAllText(Path.Combine(_apim, "global-policy.xml"), """
            <policies>
              <inbound>
                <validate-azure-ad-token tenant-id="{{entra-tenant-id}}">
                  <client-application-ids><application-id>{{entra-client-id}}</application-id></client-application-ids>
                  <audiences><audience>api://aoai-gateway</audience></audiences>
                </validate-azure-ad-token>
              </inbound>
              <backend><forward-request /></backend>
              <outbound />
              <on-error />
            </policies>
            """);
    }

    protected override string ApimPathUnderTest => _apim;

    protected override IEnumerable<string> ExtraArguments => ["--Apim:NamedValues:entra-tenant-id=" + TenantId, "--Apim:NamedValues:entra-client-id=" + ClientId];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_apim, recursive: true);
    }
}

[Collection(AspireAppGroup.Name)]
public sealed class EntraTokenScenarioTests(EntraTokenAppFixture app) : IClassFixture<EntraTokenAppFixture>
{
    [SkippableFact]
    public async Task ValidateAzureAdToken_TokensOfTheLocalTenant_AreServed_OthersGet401()
    {
        Skip.If(app.IsDeployed, "the local Entra tenant is the AppHost's; API Management validates Entra ID's own tokens");

        var allowed = await MintAsync(new { clientId = EntraTokenAppFixture.ClientId, audience = "api://aoai-gateway", tenant = EntraTokenAppFixture.TenantId, version = 2 });
        var otherClient = await MintAsync(new { clientId = "c1c1c1c1-0000-4000-8000-000000000002", audience = "api://aoai-gateway", tenant = EntraTokenAppFixture.TenantId });
        var (served, servedBody) = await ChatAsync(allowed);
        var (none, noneBody) = await ChatAsync(null);
        var (refused, refusedBody) = await ChatAsync(otherClient);

        Assert.True(served == HttpStatusCode.OK, $"{(int)served}: {servedBody}");
        Assert.Contains("chat.completion", servedBody, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.Unauthorized, """{"statusCode": 401, "message": "Azure AD JWT not present"}"""), (none, noneBody));
        Assert.Equal((HttpStatusCode.Unauthorized, """{"statusCode": 401, "message": "Invalid Azure AD JWT"}"""), (refused, refusedBody));
    }

    [SkippableFact]
    public async Task LocalEntraTenant_MintsOnlyWithTheAdminKey()
    {
        Skip.If(app.IsDeployed, "the local Entra tenant is the AppHost's");

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.GatewayUrl, "/_gateway/admin/entra/tokens"))
        {
            Content = JsonContent.Create(new { clientId = EntraTokenAppFixture.ClientId, audience = "api://aoai-gateway" }),
        };
        using var response = await app.Http.SendAsync(request).WaitAsync(LoadBalancedAppFixture.Timeout);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<string> MintAsync(object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.GatewayUrl, "/_gateway/admin/entra/tokens")) { Content = JsonContent.Create(body) };
        request.Headers.Add("x-admin-key", LoadBalancedAppFixture.AdminKey);
        using var response = await app.Http.SendAsync(request).WaitAsync(LoadBalancedAppFixture.Timeout);
        var text = await response.Content.ReadAsStringAsync().WaitAsync(LoadBalancedAppFixture.Timeout);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    private async Task<(HttpStatusCode Status, string Body)> ChatAsync(string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.GatewayUrl, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"))
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":3}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("api-key", LoadBalancedAppFixture.ChatAppKey);
        if (token is not null)
        {
            request.Headers.Authorization = new("Bearer", token);
        }

        using var response = await app.Http.SendAsync(request).WaitAsync(LoadBalancedAppFixture.Timeout);
        return (response.StatusCode, await response.Content.ReadAsStringAsync().WaitAsync(LoadBalancedAppFixture.Timeout));
    }
}
