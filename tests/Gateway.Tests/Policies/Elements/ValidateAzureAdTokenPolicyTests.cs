using System.Net;
using System.Security.Cryptography;
using Gateway.Apim;
using Gateway.Identity;
using Gateway.Policies;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Policies.Elements;

/// <summary>
/// validate-azure-ad-token through the gateway, on the injected clock, with tokens minted by the gateway's local Entra
/// tenant (<c>POST /_gateway/admin/entra/tokens</c>) and its OpenID documents read over HTTP, as from Entra ID.
/// </summary>
public sealed class ValidateAzureAdTokenPolicyTests : IAsyncLifetime, IDisposable
{
    private const string ClientId = "11111111-2222-3333-4444-555555555555";
    private const string OtherClientId = "99999999-8888-7777-6666-555555555555";
    private const string Audience = "api://aoai-gateway";
    private const string NotPresent = """{"statusCode": 401, "message": "Azure AD JWT not present"}""";
    private const string Invalid = """{"statusCode": 401, "message": "Invalid Azure AD JWT"}""";
    private static readonly DateTimeOffset Now = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid OtherTenant = new("0ff1ce00-0000-4000-8000-000000000001");
    private static readonly string[] ReaderRole = ["Chat.Reader"];
    private static readonly string[] ReaderAndWriterRoles = ["Chat.Reader", "Chat.Writer"];
    private static readonly string[] ReadAndUseScopes = ["Chat.Read", "Chat.Use"];

    private readonly TestApim _apim = new();
    private readonly FakeTimeProvider _time = new(Now);
    private readonly List<IAsyncDisposable> _disposables = [];

    private static string Tenant => LocalEntra.Tenant.ToString();

    [Theory]
    [Covers("validate-azure-ad-token", "tenant-id", "output-token-variable-name")]
    [InlineData(1, "https://sts.windows.net/{0}/", "1.0|" + ClientId + "|-")]
    [InlineData(2, "https://login.microsoftonline.com/{0}/v2.0", "2.0|-|" + ClientId)]
    public async Task ValidateAzureAdToken_AppTokenOfEitherVersion_PassesAndStoresTheJwt(int version, string issuer, string versionAndClient)
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}" output-token-variable-name="jwt">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
            </validate-azure-ad-token>
            """);
        var token = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience, version, roles = ReaderRole });

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            $"{string.Format(System.Globalization.CultureInfo.InvariantCulture, issuer, Tenant)}|{versionAndClient}|{Audience}|{Tenant}|Chat.Reader",
            await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [Covers("validate-azure-ad-token", "tenant-id")]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ValidateAzureAdToken_UserToken_PassesWithItsScopes(int version)
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}" output-token-variable-name="jwt">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
              <required-claims><claim name="scp" separator=" " match="any"><value>Chat.Use</value></claim></required-claims>
            </validate-azure-ad-token>
            """);
        var token = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience, version, user = new { name = "Ada", upn = "ada@contoso.example" }, scopes = ReadAndUseScopes });

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    [Covers("validate-azure-ad-token", "tenant-id")]
    public async Task ValidateAzureAdToken_TokenOfAnotherTenant_Returns401InvalidWithReasonTokenIssuerNotAllowed()
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
            </validate-azure-ad-token>
            """);

        // Entra ID signs every tenant's tokens with the same keys: only the issuer tells the tenants apart.
        var token = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience, tenant = OtherTenant });

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(Invalid, await response.Content.ReadAsStringAsync());
        Assert.Equal("TokenIssuerNotAllowed", Reason(response));
        Assert.Contains($"https://sts.windows.net/{OtherTenant}/", Message(response), StringComparison.Ordinal);
    }

    [Fact]
    [Covers("validate-azure-ad-token", "tenant-id")]
    public async Task ValidateAzureAdToken_OtherAudience_Returns401WithReasonTokenAudienceNotAllowed()
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}">
              <audiences><audience>{{Audience}}</audience><audience>@("https://" + context.Request.OriginalUrl.Host)</audience></audiences>
            </validate-azure-ad-token>
            """);
        var ours = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience });
        var host = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = "https://localhost" });
        var other = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = "https://cognitiveservices.azure.com" });

        using var valid = await SendAsync(client, authorization: "Bearer " + ours);
        using var validByExpression = await SendAsync(client, authorization: "Bearer " + host);
        using var invalid = await SendAsync(client, authorization: "Bearer " + other);

        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Equal(HttpStatusCode.OK, validByExpression.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, invalid.StatusCode);
        Assert.Equal(Invalid, await invalid.Content.ReadAsStringAsync());
        Assert.Equal("TokenAudienceNotAllowed", Reason(invalid));
    }

    [Theory]
    [Covers("validate-azure-ad-token", "tenant-id")]
    [InlineData("api://backend-app", HttpStatusCode.OK)]
    [InlineData("backend-app", HttpStatusCode.OK)]
    [InlineData("api://another-app", HttpStatusCode.Unauthorized)]
    public async Task ValidateAzureAdToken_BackendApplicationIds_AreTheAudiencesAllowed(string audience, HttpStatusCode status)
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
              <backend-application-ids><application-id>backend-app</application-id></backend-application-ids>
            </validate-azure-ad-token>
            """);
        var token = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience });

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal(status, response.StatusCode);
        if (status != HttpStatusCode.OK)
        {
            Assert.Equal("TokenAudienceNotAllowed", Reason(response));
        }
    }

    [Theory]
    [Covers("validate-azure-ad-token", "tenant-id")]
    [InlineData(1, ClientId, HttpStatusCode.OK)]
    [InlineData(2, ClientId, HttpStatusCode.OK)]
    [InlineData(1, OtherClientId, HttpStatusCode.Unauthorized)]
    [InlineData(2, OtherClientId, HttpStatusCode.Unauthorized)]
    public async Task ValidateAzureAdToken_ClientApplication_MustBeAllowed(int version, string clientId, HttpStatusCode status)
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}">
              <client-application-ids>
                <application-id>{{ClientId}}</application-id>
                <application-id>00000000-0000-0000-0000-00000000000a</application-id>
              </client-application-ids>
            </validate-azure-ad-token>
            """);
        var token = await LocalEntra.MintAsync(client, new { clientId, audience = Audience, version });

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal(status, response.StatusCode);
        if (status != HttpStatusCode.OK)
        {
            Assert.Equal(Invalid, await response.Content.ReadAsStringAsync());
            Assert.Equal("TokenClientApplicationNotAllowed", Reason(response));
            Assert.Equal($"Client application {clientId} is not allowed. Access denied.", Message(response));
        }
    }

    [Fact]
    [Covers("validate-azure-ad-token", "tenant-id")]
    public async Task ValidateAzureAdToken_V2Token_IsJudgedByAzpNotByAnAppidClaim()
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
            </validate-azure-ad-token>
            """);
        var token = await LocalEntra.MintAsync(client, new { clientId = OtherClientId, audience = Audience, version = 2, claims = new { appid = ClientId } });

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal("TokenClientApplicationNotAllowed", Reason(response));
    }

    [Theory]
    [Covers("validate-azure-ad-token", "tenant-id")]
    [InlineData("all", new[] { "Chat.Reader" }, HttpStatusCode.Unauthorized)]
    [InlineData("all", new[] { "Chat.Reader", "Chat.Writer" }, HttpStatusCode.OK)]
    [InlineData("any", new[] { "Chat.Reader" }, HttpStatusCode.OK)]
    [InlineData("any", new[] { "Chat.Admin" }, HttpStatusCode.Unauthorized)]
    public async Task ValidateAzureAdToken_RequiredClaims_MatchAllOrAny(string match, string[] roles, HttpStatusCode status)
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
              <required-claims>
                <claim name="roles" match="{{match}}"><value>Chat.Reader</value><value>Chat.Writer</value></claim>
              </required-claims>
            </validate-azure-ad-token>
            """);
        var token = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience, roles });

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal(status, response.StatusCode);
        if (status != HttpStatusCode.OK)
        {
            Assert.Equal(Invalid, await response.Content.ReadAsStringAsync());
            Assert.Equal("TokenClaimValueNotAllowed", Reason(response));
            Assert.Equal($"Claim roles value of {string.Join(",", roles)} is not allowed. Access denied.", Message(response));
        }
    }

    [Fact]
    [Covers("validate-azure-ad-token", "tenant-id")]
    public async Task ValidateAzureAdToken_RequiredClaimMissing_ReasonTokenClaimNotFound()
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
              <required-claims><claim name="ctry" match="any"><value>US</value></claim></required-claims>
            </validate-azure-ad-token>
            """);

        using var missing = await SendAsync(client, authorization: "Bearer " + await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience }));
        using var present = await SendAsync(client, authorization: "Bearer " + await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience, claims = new { ctry = "US" } }));

        Assert.Equal("TokenClaimNotFound", Reason(missing));
        Assert.Equal("JWT token is missing the following claims: ctry. Access denied.", Message(missing));
        Assert.Equal(HttpStatusCode.OK, present.StatusCode);
    }

    [Fact]
    [Covers("validate-azure-ad-token", "tenant-id")]
    public async Task ValidateAzureAdToken_Expired_Returns401WithReasonTokenExpired()
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
            </validate-azure-ad-token>
            """);
        var token = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience });

        using var fresh = await SendAsync(client, authorization: "Bearer " + token);
        _time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        using var expired = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Equal(Invalid, await expired.Content.ReadAsStringAsync());
        Assert.Equal("TokenExpired", Reason(expired));
        Assert.StartsWith("Lifetime validation failed. The token is expired.", Message(expired), StringComparison.Ordinal);
    }

    [Fact]
    [Covers("validate-azure-ad-token", "tenant-id")]
    public async Task ValidateAzureAdToken_SignedWithAnotherKey_ReasonTokenSignatureInvalid()
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
            </validate-azure-ad-token>
            """);
        var genuine = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience });
        using var rsa = RSA.Create(2048);
        var kid = new JsonWebToken(genuine).Kid;
        var forged = new JsonWebTokenHandler().CreateToken(
            new JsonWebToken(genuine).EncodedPayload is var payload ? Base64UrlEncoder.Decode(payload) : string.Empty,
            new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = kid }, SecurityAlgorithms.RsaSha256));

        using var response = await SendAsync(client, authorization: "Bearer " + forged);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("TokenSignatureInvalid", Reason(response));
    }

    [Fact]
    [Covers("validate-azure-ad-token", "tenant-id")]
    public async Task ValidateAzureAdToken_NoToken_Returns401NotPresentWithoutWwwAuthenticate()
    {
        var client = Start(
            $$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
            </validate-azure-ad-token>
            """);

        using var none = await SendAsync(client);
        using var garbage = await SendAsync(client, authorization: "Bearer not-a-token");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(NotPresent, await none.Content.ReadAsStringAsync());
        Assert.Equal("validate-azure-ad-token|TokenNotPresent|Azure AD JWT not present", none.Headers.GetValues("x-error").Single());

        // What Microsoft's AI-Gateway labs test in on-error to add their own WWW-Authenticate.
        Assert.Equal("401", none.Headers.GetValues("x-status").Single());
        Assert.False(none.Headers.Contains("WWW-Authenticate"));
        Assert.Equal(Invalid, await garbage.Content.ReadAsStringAsync());
        Assert.Equal("JwtInvalid", Reason(garbage));
    }

    [Theory]
    [Covers("validate-azure-ad-token", "header-name")]
    [InlineData("Authorization", "Bearer {0}", HttpStatusCode.OK)]
    [InlineData("authorization", "bearer {0}", HttpStatusCode.OK)]
    [InlineData("x-entra-token", "{0}", HttpStatusCode.OK)]
    [InlineData("x-entra-token", "Bearer {0}", HttpStatusCode.Unauthorized)]
    public async Task ValidateAzureAdToken_HeaderName_IsTheTokensSource(string header, string format, HttpStatusCode status)
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}" header-name="{{header}}">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
            </validate-azure-ad-token>
            """);
        var token = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience });

        using var response = await SendAsync(client, headers: new() { [header] = string.Format(System.Globalization.CultureInfo.InvariantCulture, format, token) });

        Assert.Equal(status, response.StatusCode);
        if (status != HttpStatusCode.OK)
        {
            // The reference's usage note: a custom header's value cannot be prefixed with Bearer.
            Assert.Equal("JwtInvalid", Reason(response));
        }
    }

    [Theory]
    [Covers("validate-azure-ad-token", "query-parameter-name")]
    [InlineData(true, HttpStatusCode.OK)]
    [InlineData(false, HttpStatusCode.Unauthorized)]
    public async Task ValidateAzureAdToken_QueryParameter_IsTheTokensSource(bool sendToken, HttpStatusCode status)
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}" query-parameter-name="access_token">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
            </validate-azure-ad-token>
            """);
        var token = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience });

        using var response = await SendAsync(client, authorization: "Bearer " + token, query: sendToken ? "&access_token=" + token : "&other=1");

        Assert.Equal(status, response.StatusCode);
        if (!sendToken)
        {
            Assert.Equal(NotPresent, await response.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [Covers("validate-azure-ad-token", "token-value")]
    [InlineData(true, HttpStatusCode.OK)]
    [InlineData(false, HttpStatusCode.Unauthorized)]
    public async Task ValidateAzureAdToken_TokenValueExpression_IsTheTokensSource(bool sendToken, HttpStatusCode status)
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}" token-value="@(context.Request.Headers.GetValueOrDefault("x-session", "").Split(';').Last().Trim())">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
            </validate-azure-ad-token>
            """);
        var token = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience });

        using var response = await SendAsync(client, headers: sendToken ? new() { ["x-session"] = "user=1; " + token } : null);

        Assert.Equal(status, response.StatusCode);
        if (!sendToken)
        {
            Assert.Equal("TokenNotPresent", Reason(response));
        }
    }

    [Fact]
    [Covers("validate-azure-ad-token", "failed-validation-httpcode", "failed-validation-error-message")]
    public async Task ValidateAzureAdToken_FailedValidationCodeAndMessage_AreWhatTheCallerGets()
    {
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}" failed-validation-httpcode="403" failed-validation-error-message="Unauthorized. A valid Entra token is required.">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
            </validate-azure-ad-token>
            """);
        var otherClient = await LocalEntra.MintAsync(client, new { clientId = OtherClientId, audience = Audience });

        using var missing = await SendAsync(client);
        using var refused = await SendAsync(client, authorization: "Bearer " + otherClient);

        foreach (var response in new[] { missing, refused })
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("""{"statusCode": 403, "message": "Unauthorized. A valid Entra token is required."}""", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal("TokenNotPresent", Reason(missing));
        Assert.Equal("TokenClientApplicationNotAllowed", Reason(refused));
    }

    [Fact]
    [Covers("validate-azure-ad-token", "tenant-id")]
    public async Task ValidateAzureAdToken_TenantAsANamedValueUrl_ReadsTheTenantsDocuments()
    {
        var client = Start(
            """
            <validate-azure-ad-token tenant-id="{{aad-tenant-id}}">
              <client-application-ids><application-id>{{aad-client-application-id}}</application-id></client-application-ids>
            </validate-azure-ad-token>
            """,
            settings: new() { ["Apim:NamedValues:aad-tenant-id"] = "https://" + Tenant, ["Apim:NamedValues:aad-client-application-id"] = ClientId });
        var token = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience });

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    [Covers("validate-azure-ad-token", "authentication-endpoint")]
    public async Task ValidateAzureAdToken_AuthenticationEndpoint_IsWhereTheTenantsDocumentsAreRead()
    {
        // No Identity:EntraAuthority: the policy's endpoint decides (here, the local tenant).
        var client = Start(
            $$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}" authentication-endpoint="{{LocalEntra.Authority}}/">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
            </validate-azure-ad-token>
            """,
            pointAtLocalTenant: false);
        var token = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience, version = 2 });

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [Covers("validate-azure-ad-token", "authentication-endpoint")]
    [InlineData(null, false, "https://login.microsoftonline.com")]
    [InlineData("https://login.microsoftonline.us", false, "https://login.microsoftonline.us")]
    [InlineData("https://login.microsoftonline.us", true, "http://entra.local/authority")]
    public async Task ValidateAzureAdToken_DocumentsLocation_IsTheConfiguredAuthorityThenTheEndpointThenEntraIds(string? endpoint, bool configured, string authority)
    {
        var documents = new RecordingDocuments();
        var attribute = endpoint is null ? string.Empty : $"authentication-endpoint=\"{endpoint}\"";
        var client = Start(
            $$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}" {{attribute}}>
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
            </validate-azure-ad-token>
            """,
            pointAtLocalTenant: false,
            settings: configured ? new() { ["Identity:EntraAuthority"] = "http://entra.local/authority/" } : null,
            documents: documents);
        var token = await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience });

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        // Nothing answers, so no issuer is known and nothing validates; what matters is where the gateway asked.
        Assert.Equal("TokenIssuerNotAllowed", Reason(response));
        Assert.Equal(
            [$"{authority}/{Tenant}/v2.0/.well-known/openid-configuration", $"{authority}/{Tenant}/.well-known/openid-configuration"],
            documents.Requested);
    }

    [Fact]
    [Covers("validate-azure-ad-token", "output-token-variable-name")]
    public async Task ValidateAzureAdToken_EncryptedToken_IsDecryptedWithABase64DecryptionKey()
    {
        var encryption = RandomNumberGenerator.GetBytes(32);
        var client = Start($$"""
            <validate-azure-ad-token tenant-id="{{Tenant}}" output-token-variable-name="jwt">
              <client-application-ids><application-id>{{ClientId}}</application-id></client-application-ids>
              <decryption-keys><key>{{Convert.ToBase64String(encryption)}}</key></decryption-keys>
            </validate-azure-ad-token>
            """);
        var signed = new JsonWebToken(await LocalEntra.MintAsync(client, new { clientId = ClientId, audience = Audience, roles = ReaderAndWriterRoles }));

        // Entra ID encrypts with an application's certificate; a symmetric key (which the reference also accepts) is what
        // the gateway can decrypt without a certificate store. The payload is the local tenant's, re-signed with its key.
        var payload = Base64UrlEncoder.Decode(signed.EncodedPayload);
        var encrypted = new JsonWebTokenHandler().CreateToken(
            payload,
            new SigningCredentials(new RsaSecurityKey(_signingKey!) { KeyId = signed.Kid }, SecurityAlgorithms.RsaSha256),
            new EncryptingCredentials(new SymmetricSecurityKey(encryption), "dir", SecurityAlgorithms.Aes128CbcHmacSha256));

        using var response = await SendAsync(client, authorization: "Bearer " + encrypted);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.EndsWith("|Chat.Reader,Chat.Writer", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [Covers("validate-azure-ad-token", "tenant-id", "header-name", "query-parameter-name", "token-value", "authentication-endpoint", "failed-validation-httpcode", "output-token-variable-name")]
    [InlineData("""<validate-azure-ad-token><audiences><audience>a</audience></audiences></validate-azure-ad-token>""", "<validate-azure-ad-token> requires attribute 'tenant-id'")]
    [InlineData("""<validate-azure-ad-token tenant-id="contoso.onmicrosoft.com/x"><audiences><audience>a</audience></audiences></validate-azure-ad-token>""", "attribute 'tenant-id' of <validate-azure-ad-token> must be a tenant ID, a domain name or a URL")]
    [InlineData("""<validate-azure-ad-token tenant-id="t" header-name="a" query-parameter-name="b"><audiences><audience>a</audience></audiences></validate-azure-ad-token>""", "<validate-azure-ad-token> takes at most one of 'header-name', 'query-parameter-name' and 'token-value'")]
    [InlineData("""<validate-azure-ad-token tenant-id="t" token-value="@("x")" header-name="a"><audiences><audience>a</audience></audiences></validate-azure-ad-token>""", "takes at most one of")]
    [InlineData("""<validate-azure-ad-token tenant-id="t" authentication-endpoint="login.microsoftonline.com"><audiences><audience>a</audience></audiences></validate-azure-ad-token>""", "attribute 'authentication-endpoint' of <validate-azure-ad-token> must be an absolute http(s) URL")]
    [InlineData("""<validate-azure-ad-token tenant-id="t" authentication-endpoint="@("https://x")"><audiences><audience>a</audience></audiences></validate-azure-ad-token>""", "attribute 'authentication-endpoint' of <validate-azure-ad-token> does not accept policy expressions")]
    [InlineData("""<validate-azure-ad-token tenant-id="t" failed-validation-httpcode="teapot"><audiences><audience>a</audience></audiences></validate-azure-ad-token>""", "attribute 'failed-validation-httpcode' of <validate-azure-ad-token> must be an HTTP status code, not 'teapot'")]
    [InlineData("""<validate-azure-ad-token tenant-id="t" output-token-variable-name="@("jwt")"><audiences><audience>a</audience></audiences></validate-azure-ad-token>""", "attribute 'output-token-variable-name' of <validate-azure-ad-token> does not accept policy expressions")]
    [InlineData("""<validate-azure-ad-token tenant-id="t" />""", "<validate-azure-ad-token> needs <client-application-ids> with an <application-id>, or <audiences> with an <audience>")]
    [InlineData("""<validate-azure-ad-token tenant-id="t"><client-application-ids /></validate-azure-ad-token>""", "needs <client-application-ids> with an <application-id>")]
    [InlineData("""<validate-azure-ad-token tenant-id="t"><client-application-ids><application-id>@("x")</application-id></client-application-ids></validate-azure-ad-token>""", "<application-id> inside <client-application-ids> does not accept policy expressions")]
    [InlineData("""<validate-azure-ad-token tenant-id="t"><backend-application-ids><application-id /></backend-application-ids></validate-azure-ad-token>""", "<application-id> inside <backend-application-ids> is empty")]
    [InlineData("""<validate-azure-ad-token tenant-id="t"><audiences><audience>a</audience></audiences><audiences /></validate-azure-ad-token>""", "<audiences> appears twice inside <validate-azure-ad-token>")]
    [InlineData("""<validate-azure-ad-token tenant-id="t"><audiences><audience>a</audience></audiences><issuers /></validate-azure-ad-token>""", "<issuers> is not allowed inside <validate-azure-ad-token>")]
    [InlineData("""<validate-azure-ad-token tenant-id="t"><audiences><audience>a</audience></audiences><required-claims><claim name="x" match="most" /></required-claims></validate-azure-ad-token>""", "attribute 'match' of <claim> must be all or any, not 'most'")]
    [InlineData("""<validate-azure-ad-token tenant-id="t"><audiences><audience>a</audience></audiences><decryption-keys><key certificate-id="my-cert" /></decryption-keys></validate-azure-ad-token>""", "certificate-id=\"my-cert\" on <key> is not supported by this gateway (uploaded certificates are not modelled locally; only base64 symmetric keys decrypt)")]
    [InlineData("""<validate-azure-ad-token tenant-id="t"><audiences><audience>a</audience></audiences><decryption-keys><key n="AQAB" e="AQAB" /></decryption-keys></validate-azure-ad-token>""", "an RSA public key (n and e) cannot decrypt")]
    [InlineData("""<validate-azure-ad-token tenant-id="t" require-scheme="Bearer"><audiences><audience>a</audience></audiences></validate-azure-ad-token>""", "unknown attribute 'require-scheme' on <validate-azure-ad-token>")]
    public void ValidateAzureAdToken_BadAttributesOrChildren_FailTheLoad(string element, string problem)
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            $"<policies><inbound>{element}</inbound></policies>", "policy.xml", PolicyScope.Api, new NamedValues(new Dictionary<string, string?>())));

        Assert.Contains(error.Problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    [Covers("validate-azure-ad-token", "tenant-id")]
    public void ValidateAzureAdToken_AudiencesWithoutClientApplicationIds_Loads()
    {
        // The reference makes client-application-ids optional when audiences are given, and Microsoft's AI-Gateway labs
        // (ghcp-byok-foundry, mcp-prm-oauth) deploy such policies.
        var document = PolicyLoader.Load(
            """<policies><inbound><validate-azure-ad-token tenant-id="{{tenant-id}}" output-token-variable-name="jwt"><audiences><audience>https://cognitiveservices.azure.com</audience></audiences></validate-azure-ad-token></inbound></policies>""",
            "policy.xml",
            PolicyScope.Api,
            new NamedValues(new Dictionary<string, string?> { ["tenant-id"] = Tenant }));

        Assert.NotNull(document);
    }

    [Fact]
    [Covers("validate-azure-ad-token", "tenant-id")]
    public void ValidateAzureAdToken_OutsideInbound_FailsTheLoad()
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            """<policies><outbound><validate-azure-ad-token tenant-id="t"><audiences><audience>a</audience></audiences></validate-azure-ad-token></outbound></policies>""", "policy.xml", PolicyScope.Api, new NamedValues(new Dictionary<string, string?>())));

        Assert.Contains("<validate-azure-ad-token> is not allowed in the outbound section (allowed in: inbound)", Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            await disposable.DisposeAsync();
        }
    }

    public void Dispose() => _apim.Dispose();

    private RSA? _signingKey;

    private static string? Reason(HttpResponseMessage response) => response.Headers.TryGetValues("x-error", out var values) ? values.Single().Split('|')[1] : null;

    private static string Message(HttpResponseMessage response) => response.Headers.GetValues("x-error").Single().Split('|', 3)[2];

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string? authorization = null, string query = "", Dictionary<string, string>? headers = null)
    {
        var all = (headers ?? []).Select(h => (h.Key, h.Value)).ToList();
        if (authorization is not null)
        {
            all.Insert(0, ("Authorization", authorization));
        }

        return client.PostChatAsync(ChatCalls.ChatPath + query, headers: all);
    }

    /// <summary>
    /// The gateway on the fake clock with its local Entra tenant and the API policy: the element under test, then a
    /// response listing what the output variable holds (issuer, ver, appid, azp, audiences, tid, roles). on-error reports
    /// <c>context.LastError</c> in <c>x-error</c> and the status it sees in <c>x-status</c>, and lets the element's own
    /// response through. With <paramref name="documents"/>, OpenID documents are requested from it instead of the gateway.
    /// </summary>
    private HttpClient Start(string element, bool pointAtLocalTenant = true, Dictionary<string, string>? settings = null, RecordingDocuments? documents = null)
    {
        File.WriteAllText(_apim.PolicyPath, $$"""
            <policies>
              <inbound>
                {{element}}
                <return-response>
                  <set-status code="200" reason="OK" />
                  <set-body>@{
                    var jwt = context.Variables.GetValueOrDefault<Jwt>("jwt");
                    if (jwt == null) { return "validated"; }
                    Func<string, string> claim = name => jwt.Claims.GetValueOrDefault(name, "-");
                    return string.Join("|", jwt.Issuer, claim("ver"), claim("appid"), claim("azp"), string.Join(",", jwt.Audiences), claim("tid"), claim("roles"));
                  }</set-body>
                </return-response>
              </inbound>
              <on-error>
                <set-header name="x-error" exists-action="override">
                  <value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Message.Replace("\r", " ").Replace("\n", " "))</value>
                </set-header>
                <set-header name="x-status" exists-action="override">
                  <value>@(context.Response.StatusCode.ToString())</value>
                </set-header>
              </on-error>
            </policies>
            """);
        var all = LocalEntra.Settings(pointAtLocalTenant);
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        var factory = new GatewayFactory(
            _apim,
            "http://127.0.0.1:9",
            time: _time,
            testServices: services =>
            {
                if (documents is null)
                {
                    LocalEntra.ServeOpenIdFromTheGateway(services);
                }
                else
                {
                    services.AddHttpClient(OpenIdConfigurationCache.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => documents);
                }
            },
            settings: all);
        _disposables.Add(factory);
        _signingKey = factory.SigningKey;
        return factory.CreateClient();
    }

    /// <summary>Answers every OpenID document request with 404 and records where it was sent.</summary>
    private sealed class RecordingDocuments : HttpMessageHandler
    {
        public List<string> Requested { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Requested)
            {
                Requested.Add(request.RequestUri!.ToString());
            }

            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound));
        }
    }
}
