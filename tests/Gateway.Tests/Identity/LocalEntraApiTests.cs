using System.Net;
using System.Text.Json;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Tests.Identity;

/// <summary>The gateway's local Entra tenant: its OpenID documents, and minting behind the admin key.</summary>
public sealed class LocalEntraApiTests : IDisposable
{
    private const string ClientId = "11111111-2222-3333-4444-555555555555";
    private static readonly DateTimeOffset Now = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] Roles = ["Chat.Reader"];
    private readonly TestApim _apim = new();

    [Theory]
    [InlineData("/.well-known/openid-configuration", "https://sts.windows.net/{0}/", "/discovery/keys")]
    [InlineData("/v2.0/.well-known/openid-configuration", "https://login.microsoftonline.com/{0}/v2.0", "/discovery/v2.0/keys")]
    public async Task OpenIdConfiguration_EitherVersion_NamesEntrasIssuerAndTheLocalKeySet(string path, string issuer, string keysPath)
    {
        using var factory = Factory();
        var client = factory.CreateClient();
        var tenant = Guid.NewGuid();

        using var configuration = JsonDocument.Parse(await GetAsync(client, $"/_gateway/entra/{tenant}{path}"));
        var jwksUri = configuration.RootElement.GetProperty("jwks_uri").GetString()!;
        using var keys = JsonDocument.Parse(await GetAsync(client, jwksUri));
        var token = new JsonWebToken(await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = "api://x" }));

        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, issuer, tenant), configuration.RootElement.GetProperty("issuer").GetString());
        Assert.Equal($"http://localhost/_gateway/entra/{tenant}{keysPath}", jwksUri);
        var key = Assert.Single(keys.RootElement.GetProperty("keys").EnumerateArray());
        Assert.Equal("RSA", key.GetProperty("kty").GetString());
        Assert.Equal(token.Kid, key.GetProperty("kid").GetString());
        Assert.False(key.TryGetProperty("d", out _));
    }

    [Theory]
    [InlineData("/_gateway/entra/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration")]
    [InlineData("/_gateway/entra/common/discovery/keys")]
    public async Task OpenIdConfiguration_TenantThatIsNoGuid_Returns400InvalidTenant(string path)
    {
        using var factory = Factory();

        using var response = await factory.CreateClient().GetAsync(path).WaitAsync(TestTimeouts.Request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_tenant", body.RootElement.GetProperty("error").GetString());
        Assert.StartsWith("AADSTS90002: Tenant ", body.RootElement.GetProperty("error_description").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-admin-key-0123456789")]
    public async Task Mint_WithoutTheAdminKey_Returns401AndNoToken(string? key)
    {
        using var factory = Factory();

        using var response = await LocalEntra.MintResponseAsync(factory.CreateClient(), new { clientId = ClientId, audience = "api://x" }, key);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("access_token", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mint_GatewayWithoutAdminKey_HasNoMint()
    {
        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");

        using var response = await LocalEntra.MintResponseAsync(factory.CreateClient(), new { clientId = ClientId, audience = "api://x" }, LocalEntra.AdminKey);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("""{"audience":"api://x"}""", "'clientId' is required")]
    [InlineData("""{"clientId":"c"}""", "'audience' is required")]
    [InlineData("""{"clientId":"c","audience":"a","version":3}""", "'version' must be 1 or 2, not 3.")]
    [InlineData("""{"clientId":"c","audience":"a","claims":{"iss":"https://evil.example/"}}""", "'claims' may not set 'iss'")]
    [InlineData("""{"clientId":"c","audience":"a","claims":{"level":3}}""", "claim 'level' must be a string or an array of strings.")]
    public async Task Mint_BadRequest_Returns400WithTheProblem(string body, string problem)
    {
        using var factory = Factory();

        using var response = await LocalEntra.MintResponseAsync(factory.CreateClient(), JsonDocument.Parse(body).RootElement, LocalEntra.AdminKey);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(problem, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mint_AppTokenV1_HasEntrasClientCredentialClaims()
    {
        using var factory = Factory();
        var client = factory.CreateClient();

        using var response = await LocalEntra.MintResponseAsync(client, new { clientId = ClientId, audience = "https://cognitiveservices.azure.com", roles = Roles }, LocalEntra.AdminKey);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var token = new JsonWebToken(body.RootElement.GetProperty("access_token").GetString()!);

        Assert.Equal("Bearer", body.RootElement.GetProperty("token_type").GetString());
        Assert.Equal(3600, body.RootElement.GetProperty("expires_in").GetInt32());
        Assert.Equal(("RS256", "JWT"), (token.Alg, token.Typ));
        Assert.Equal($"https://sts.windows.net/{LocalEntra.Tenant}/", token.Issuer);
        Assert.Equal("https://cognitiveservices.azure.com", Assert.Single(token.Audiences));
        Assert.Equal(Now.UtcDateTime, token.IssuedAt);
        Assert.Equal(Now.UtcDateTime.AddHours(1), token.ValidTo);
        Assert.Equal(
            ("1.0", ClientId, "1", LocalEntra.Tenant.ToString(), "app", $"https://sts.windows.net/{LocalEntra.Tenant}/"),
            (Claim(token, "ver"), Claim(token, "appid"), Claim(token, "appidacr"), Claim(token, "tid"), Claim(token, "idtyp"), Claim(token, "idp")));
        Assert.Equal(Claim(token, "oid"), Claim(token, "sub"));
        Assert.True(Guid.TryParse(Claim(token, "oid"), out _));
        Assert.Equal(Roles, token.GetPayloadValue<string[]>("roles"));
        Assert.False(token.TryGetPayloadValue<string>("azp", out _));
        Assert.False(token.TryGetPayloadValue<string>("scp", out _));
    }

    [Fact]
    public async Task Mint_UserTokenV2_HasEntrasDelegatedClaims()
    {
        using var factory = Factory();
        var client = factory.CreateClient();
        var tenant = Guid.NewGuid();

        var token = new JsonWebToken(await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = "api://x", version = 2, tenant, user = new { name = "Ada Lovelace", upn = "ada@contoso.example" } }));
        var again = new JsonWebToken(await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = "api://x", version = 2, tenant, user = new { name = "Ada Lovelace", upn = "ada@contoso.example" } }));
        var otherApp = new JsonWebToken(await LocalEntra.MintAsync(client, new { clientId = "other-app", audience = "api://x", version = 2, tenant, user = new { name = "Ada Lovelace", upn = "ada@contoso.example" } }));

        Assert.Equal($"https://login.microsoftonline.com/{tenant}/v2.0", token.Issuer);
        Assert.Equal(
            ("2.0", ClientId, "0", tenant.ToString(), "user_impersonation", "Ada Lovelace", "ada@contoso.example"),
            (Claim(token, "ver"), Claim(token, "azp"), Claim(token, "azpacr"), Claim(token, "tid"), Claim(token, "scp"), Claim(token, "name"), Claim(token, "preferred_username")));
        Assert.False(token.TryGetPayloadValue<string>("appid", out _));
        Assert.False(token.TryGetPayloadValue<string>("idtyp", out _));

        // The user's object id is stable; the subject is pairwise (per application), as Entra ID makes it.
        Assert.Equal(Claim(token, "oid"), Claim(otherApp, "oid"));
        Assert.Equal(Claim(token, "sub"), Claim(again, "sub"));
        Assert.NotEqual(Claim(token, "sub"), Claim(otherApp, "sub"));
        Assert.NotEqual(Claim(token, "uti"), Claim(again, "uti"));
    }

    public void Dispose() => _apim.Dispose();

    private static string Claim(JsonWebToken token, string name) => token.GetPayloadValue<string>(name);

    private static async Task<string> GetAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url).WaitAsync(TestTimeouts.Request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request);
    }

    private GatewayFactory Factory() => new(_apim, "http://127.0.0.1:9", time: new FakeTimeProvider(Now), settings: LocalEntra.Settings());
}
