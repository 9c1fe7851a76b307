using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gateway.Apim;
using Gateway.Policies;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Policies.Elements;

/// <summary>validate-jwt through the gateway, on the injected clock, with tokens made here.</summary>
public sealed class ValidateJwtPolicyTests : IAsyncLifetime, IDisposable
{
    private const string Issuer = "https://issuer.example/";
    private const string Audience = "api://gateway";
    private const string NotPresent = """{"statusCode": 401, "message": "JWT not present."}""";
    private const string Invalid = """{"statusCode": 401, "message": "Invalid JWT."}""";
    private static readonly DateTimeOffset Now = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] HmacKey = Encoding.ASCII.GetBytes("a-local-hmac-key-of-256-bits-!!!");
    private static readonly string HmacKeyBase64 = Convert.ToBase64String(HmacKey);
    private static readonly string[] Roles = ["reader", "writer"];
    private static readonly string[] TwoRoles = ["a", "b"];

    private readonly TestApim _apim = new();
    private readonly FakeTimeProvider _time = new(Now);
    private readonly List<IAsyncDisposable> _disposables = [];

    [Fact]
    [Covers("validate-jwt", "header-name", "output-token-variable-name")]
    public async Task ValidateJwt_ValidToken_PassesAndStoresTheJwt()
    {
        var client = Start($$"""
            <validate-jwt header-name="Authorization" output-token-variable-name="jwt">
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
              <audiences><audience>{{Audience}}</audience></audiences>
              <issuers><issuer>{{Issuer}}</issuer></issuers>
            </validate-jwt>
            """);
        var token = Token(Hmac(), d =>
        {
            d.TokenType = "JWT";
            d.Claims["jti"] = "token-1";
            d.Claims["roles"] = Roles;
        });

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            "HS256|JWT|token-1|user-1|https://issuer.example/|api://gateway|2025-03-01T11:59:00|2025-03-01T11:59:00|2025-03-01T13:00:00|reader,writer|reader,writer",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    [Covers("validate-jwt", "header-name")]
    public async Task ValidateJwt_NoToken_Returns401JwtNotPresentWithReasonTokenNotPresent()
    {
        var client = Start($$"""
            <validate-jwt header-name="Authorization">
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
            </validate-jwt>
            """);

        using var response = await SendAsync(client);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(NotPresent, await response.Content.ReadAsStringAsync());
        Assert.Equal("validate-jwt|TokenNotPresent|JWT not present.", response.Headers.GetValues("x-error").Single());
        Assert.False(response.Headers.Contains("WWW-Authenticate"));
    }

    [Fact]
    [Covers("validate-jwt", "header-name")]
    public async Task ValidateJwt_SignedWithAnotherKey_Returns401InvalidJwtWithReasonTokenSignatureInvalid()
    {
        var client = Start($$"""
            <validate-jwt header-name="Authorization">
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
            </validate-jwt>
            """);
        var token = Token(new SigningCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)), SecurityAlgorithms.HmacSha256));

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(Invalid, await response.Content.ReadAsStringAsync());
        Assert.Equal("TokenSignatureInvalid", Reason(response));
        Assert.StartsWith("IDX10517: Signature validation failed.", Message(response), StringComparison.Ordinal);
        Assert.DoesNotContain(token[..token.LastIndexOf('.')], Message(response), StringComparison.Ordinal);
    }

    [Fact]
    [Covers("validate-jwt", "header-name")]
    public async Task ValidateJwt_KeyIdNotAmongTheKeys_ReasonTokenSignatureKeyNotFound()
    {
        var client = Start($$"""
            <validate-jwt header-name="Authorization">
              <issuer-signing-keys><key id="key-1">{{HmacKeyBase64}}</key></issuer-signing-keys>
            </validate-jwt>
            """);
        var other = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = "key-2" };

        using var response = await SendAsync(client, authorization: "Bearer " + Token(new SigningCredentials(other, SecurityAlgorithms.HmacSha256)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(Invalid, await response.Content.ReadAsStringAsync());
        Assert.Equal("TokenSignatureKeyNotFound", Reason(response));
    }

    [Theory]
    [Covers("validate-jwt", "clock-skew")]
    [InlineData(null, HttpStatusCode.Unauthorized, "TokenExpired")]
    [InlineData("60", HttpStatusCode.Unauthorized, "TokenExpired")]
    [InlineData("180", HttpStatusCode.OK, null)]
    public async Task ValidateJwt_ExpiredTwoMinutesAgo_PassesOnlyWithinTheClockSkew(string? clockSkew, HttpStatusCode status, string? reason)
    {
        var skew = clockSkew is null ? string.Empty : $"clock-skew=\"{clockSkew}\"";
        var client = Start($$"""
            <validate-jwt header-name="Authorization" {{skew}}>
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
            </validate-jwt>
            """);
        var token = Token(Hmac(), d =>
        {
            d.IssuedAt = d.NotBefore = (Now - TimeSpan.FromHours(1)).UtcDateTime;
            d.Expires = (Now - TimeSpan.FromMinutes(2)).UtcDateTime;
        });

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal(status, response.StatusCode);
        if (reason is not null)
        {
            Assert.Equal(Invalid, await response.Content.ReadAsStringAsync());
            Assert.Equal(reason, Reason(response));
        }
    }

    [Theory]
    [Covers("validate-jwt", "clock-skew")]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("180", HttpStatusCode.OK)]
    public async Task ValidateJwt_NotValidForTwoMoreMinutes_PassesOnlyWithinTheClockSkew(string? clockSkew, HttpStatusCode status)
    {
        var skew = clockSkew is null ? string.Empty : $"clock-skew=\"{clockSkew}\"";
        var client = Start($$"""
            <validate-jwt header-name="Authorization" {{skew}}>
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
            </validate-jwt>
            """);
        var token = Token(Hmac(), d => d.NotBefore = (Now + TimeSpan.FromMinutes(2)).UtcDateTime);

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        Assert.Equal(status, response.StatusCode);
        if (status != HttpStatusCode.OK)
        {
            Assert.Equal("JwtInvalid", Reason(response));
        }
    }

    [Fact]
    [Covers("validate-jwt", "header-name")]
    public async Task ValidateJwt_ValidityFollowsTheGatewayClock()
    {
        var client = Start($$"""
            <validate-jwt header-name="Authorization">
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
            </validate-jwt>
            """);
        var token = "Bearer " + Token(Hmac());

        using var before = await SendAsync(client, authorization: token);
        _time.Advance(TimeSpan.FromMinutes(61));
        using var after = await SendAsync(client, authorization: token);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal("TokenExpired", Reason(after));
    }

    [Theory]
    [Covers("validate-jwt", "require-expiration-time")]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("true", HttpStatusCode.Unauthorized)]
    [InlineData("false", HttpStatusCode.OK)]
    [InlineData("@(false)", HttpStatusCode.OK)]
    public async Task ValidateJwt_TokenWithoutExpiry_PassesOnlyWhenExpiryIsNotRequired(string? requireExpiration, HttpStatusCode status)
    {
        var attribute = requireExpiration is null ? string.Empty : $"require-expiration-time=\"{requireExpiration}\"";
        var client = Start($$"""
            <validate-jwt header-name="Authorization" {{attribute}}>
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
            </validate-jwt>
            """);

        using var response = await SendAsync(client, authorization: "Bearer " + Token(Hmac(), d => d.Expires = null));

        Assert.Equal(status, response.StatusCode);
        if (status != HttpStatusCode.OK)
        {
            Assert.Equal(Invalid, await response.Content.ReadAsStringAsync());
            Assert.Equal("JwtInvalid", Reason(response));
        }
    }

    [Theory]
    [Covers("validate-jwt", "header-name")]
    [InlineData("api://other", Issuer, "TokenAudienceNotAllowed")]
    [InlineData(Audience, "https://other.example/", "TokenIssuerNotAllowed")]
    [InlineData("localhost", Issuer, null)]
    public async Task ValidateJwt_AudienceAndIssuer_MustBeListed(string audience, string issuer, string? reason)
    {
        var client = Start($$"""
            <validate-jwt header-name="Authorization">
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
              <audiences>
                <audience>{{Audience}}</audience>
                <audience>@(context.Request.OriginalUrl.Host)</audience>
              </audiences>
              <issuers><issuer>{{Issuer}}</issuer></issuers>
            </validate-jwt>
            """);

        using var response = await SendAsync(client, authorization: "Bearer " + Token(Hmac(), d => (d.Audience, d.Issuer) = (audience, issuer)));

        if (reason is null)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(Invalid, await response.Content.ReadAsStringAsync());
        Assert.Equal(reason, Reason(response));
        Assert.EndsWith(". Access denied.", Message(response), StringComparison.Ordinal);
    }

    [Theory]
    [Covers("validate-jwt")]
    [InlineData("""<claim name="roles" match="all"><value>reader</value><value>writer</value></claim>""", null, null)]
    [InlineData("""<claim name="roles"><value>reader</value><value>admin</value></claim>""", "TokenClaimValueNotAllowed", "Claim roles value of reader,writer is not allowed. Access denied.")]
    [InlineData("""<claim name="roles" match="any"><value>reader</value><value>admin</value></claim>""", null, null)]
    [InlineData("""<claim name="roles" match="any"><value>admin</value></claim>""", "TokenClaimValueNotAllowed", "Claim roles value of reader,writer is not allowed. Access denied.")]
    [InlineData("""<claim name="scp" match="all" separator=" "><value>chat.write</value><value>chat.read</value></claim>""", null, null)]
    [InlineData("""<claim name="scp" match="any"><value>chat.write</value></claim>""", "TokenClaimValueNotAllowed", "Claim scp value of chat.read chat.write is not allowed. Access denied.")]
    [InlineData("""<claim name="tid" /><claim name="roles" /><claim name="oid"><value>x</value></claim>""", "TokenClaimNotFound", "JWT token is missing the following claims: tid, oid. Access denied.")]
    public async Task ValidateJwt_RequiredClaims_MatchAllOrAnyValue(string claims, string? reason, string? message)
    {
        var client = Start($$"""
            <validate-jwt header-name="Authorization">
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
              <required-claims>{{claims}}</required-claims>
            </validate-jwt>
            """);
        var token = Token(Hmac(), d =>
        {
            d.Claims["roles"] = Roles;
            d.Claims["scp"] = "chat.read chat.write";
        });

        using var response = await SendAsync(client, authorization: "Bearer " + token);

        if (reason is null)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(Invalid, await response.Content.ReadAsStringAsync());
        Assert.Equal($"validate-jwt|{reason}|{message}", response.Headers.GetValues("x-error").Single());
    }

    [Theory]
    [Covers("validate-jwt", "header-name", "require-scheme")]
    [InlineData("Authorization", "Bearer", "Bearer {0}", HttpStatusCode.OK)]
    [InlineData("Authorization", "Bearer", "bearer {0}", HttpStatusCode.OK)]
    [InlineData("Authorization", "Bearer", "Token {0}", HttpStatusCode.Unauthorized)]
    [InlineData("Authorization", "Bearer", "{0}", HttpStatusCode.Unauthorized)]
    [InlineData("Authorization", null, "Bearer {0}", HttpStatusCode.OK)]
    [InlineData("Authorization", null, "{0}", HttpStatusCode.OK)]
    [InlineData("x-jwt", "Bearer", "{0}", HttpStatusCode.OK)]
    [InlineData("x-jwt", "Bearer", "Bearer {0}", HttpStatusCode.Unauthorized)]
    public async Task ValidateJwt_RequireScheme_AppliesToTheAuthorizationHeaderOnly(string header, string? scheme, string format, HttpStatusCode status)
    {
        var requireScheme = scheme is null ? string.Empty : $"require-scheme=\"{scheme}\"";
        var client = Start($$"""
            <validate-jwt header-name="{{header}}" {{requireScheme}}>
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
            </validate-jwt>
            """);
        var value = string.Format(CultureInfo.InvariantCulture, format, Token(Hmac()));

        using var response = await SendAsync(client, headers: new() { [header] = value });

        Assert.Equal(status, response.StatusCode);
        if (status != HttpStatusCode.OK)
        {
            // A wrong scheme means no token was presented; a custom header's scheme is taken as part of the token.
            Assert.Equal(header == "Authorization" ? "TokenNotPresent" : "JwtInvalid", Reason(response));
        }
    }

    [Theory]
    [Covers("validate-jwt", "query-parameter-name")]
    [InlineData(true, HttpStatusCode.OK)]
    [InlineData(false, HttpStatusCode.Unauthorized)]
    public async Task ValidateJwt_QueryParameter_IsTheTokensSource(bool sendToken, HttpStatusCode status)
    {
        var client = Start($$"""
            <validate-jwt query-parameter-name="access_token">
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
            </validate-jwt>
            """);
        var query = sendToken ? "&access_token=" + Token(Hmac()) : "&other=1";

        using var response = await SendAsync(client, query: query, headers: new() { ["Authorization"] = "Bearer " + Token(Hmac()) });

        Assert.Equal(status, response.StatusCode);
        if (!sendToken)
        {
            Assert.Equal(NotPresent, await response.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [Covers("validate-jwt", "token-value")]
    [InlineData(true, HttpStatusCode.OK)]
    [InlineData(false, HttpStatusCode.Unauthorized)]
    public async Task ValidateJwt_TokenValueExpression_IsTheTokensSource(bool sendToken, HttpStatusCode status)
    {
        var client = Start($$"""
            <validate-jwt token-value="@(context.Request.Headers.GetValueOrDefault("x-session", "").Split(';').Last().Trim())">
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
            </validate-jwt>
            """);
        var headers = new Dictionary<string, string>();
        if (sendToken)
        {
            headers["x-session"] = "user=1; " + Token(Hmac());
        }

        using var response = await SendAsync(client, headers: headers);

        Assert.Equal(status, response.StatusCode);
        if (!sendToken)
        {
            Assert.Equal(NotPresent, await response.Content.ReadAsStringAsync());
            Assert.Equal("TokenNotPresent", Reason(response));
        }
    }

    [Fact]
    [Covers("validate-jwt", "failed-validation-httpcode", "failed-validation-error-message")]
    public async Task ValidateJwt_FailedValidationCodeAndMessage_AreWhatTheCallerGets()
    {
        var client = Start($$"""
            <validate-jwt header-name="Authorization" failed-validation-httpcode="403" failed-validation-error-message="Unauthorized. Access token is missing or invalid.">
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
            </validate-jwt>
            """);

        using var missing = await SendAsync(client);
        using var expired = await SendAsync(client, authorization: "Bearer " + Token(Hmac(), d => d.Expires = (Now - TimeSpan.FromMinutes(1)).UtcDateTime));

        foreach (var response in new[] { missing, expired })
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("""{"statusCode": 403, "message": "Unauthorized. Access token is missing or invalid."}""", await response.Content.ReadAsStringAsync());
        }

        Assert.Equal("TokenNotPresent", Reason(missing));
        Assert.Equal("TokenExpired", Reason(expired));
    }

    [Fact]
    [Covers("validate-jwt", "failed-validation-httpcode", "failed-validation-error-message")]
    public async Task ValidateJwt_ExpressionsInCodeAndMessage_AndAnOnErrorThatAnswers()
    {
        var client = Start(
            $$"""
            <validate-jwt header-name="Authorization" failed-validation-httpcode="@(context.Request.Headers.ContainsKey("x-teapot") ? 418 : 401)" failed-validation-error-message="@("No token for " + context.Operation.Id)">
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
            </validate-jwt>
            """,
            onError: """
                <choose>
                  <when condition="@(context.Request.Headers.ContainsKey("x-answer"))">
                    <return-response><set-status code="499" reason="Answered" /><set-body>@(context.LastError.Reason)</set-body></return-response>
                  </when>
                </choose>
                """);

        using var teapot = await SendAsync(client, headers: new() { ["x-teapot"] = "1" });
        using var answered = await SendAsync(client, headers: new() { ["x-answer"] = "1" });

        Assert.Equal((HttpStatusCode)418, teapot.StatusCode);
        Assert.Equal("""{"statusCode": 418, "message": "No token for ChatCompletions_Create"}""", await teapot.Content.ReadAsStringAsync());
        Assert.Equal((HttpStatusCode)499, answered.StatusCode);
        Assert.Equal("TokenNotPresent", await answered.Content.ReadAsStringAsync());
    }

    [Theory]
    [Covers("validate-jwt", "require-signed-tokens")]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("true", HttpStatusCode.Unauthorized)]
    [InlineData("false", HttpStatusCode.OK)]
    public async Task ValidateJwt_UnsignedToken_PassesOnlyWhenSignaturesAreNotRequired(string? requireSigned, HttpStatusCode status)
    {
        var attribute = requireSigned is null ? string.Empty : $"require-signed-tokens=\"{requireSigned}\"";
        var client = Start($$"""
            <validate-jwt header-name="Authorization" {{attribute}}>
              <audiences><audience>{{Audience}}</audience></audiences>
            </validate-jwt>
            """);

        using var response = await SendAsync(client, authorization: "Bearer " + Token(credentials: null));

        Assert.Equal(status, response.StatusCode);
        if (status != HttpStatusCode.OK)
        {
            Assert.Equal("TokenSignatureInvalid", Reason(response));
        }
    }

    [Fact]
    [Covers("validate-jwt", "header-name")]
    public async Task ValidateJwt_RsaKeyAsModulusAndExponent_ValidatesRs256()
    {
        using var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        var client = Start($$"""
            <validate-jwt header-name="Authorization">
              <issuer-signing-keys>
                <key>{{HmacKeyBase64}}</key>
                <key id="rsa-1" n="{{Base64UrlEncoder.Encode(parameters.Modulus)}}" e="{{Base64UrlEncoder.Encode(parameters.Exponent)}}" />
              </issuer-signing-keys>
            </validate-jwt>
            """);
        var signing = new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = "rsa-1" }, SecurityAlgorithms.RsaSha256);
        using var other = RSA.Create(2048);

        using var valid = await SendAsync(client, authorization: "Bearer " + Token(signing));
        using var forged = await SendAsync(client, authorization: "Bearer " + Token(new SigningCredentials(new RsaSecurityKey(other) { KeyId = "rsa-1" }, SecurityAlgorithms.RsaSha256)));

        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal("TokenSignatureInvalid", Reason(forged));
    }

    [Fact]
    [Covers("validate-jwt", "header-name")]
    public async Task ValidateJwt_OpenIdConfigOverHttp_FetchesKeysOnceAndAgainForANewKeyIdAfterFiveMinutes()
    {
        var provider = await OpenIdProvider.StartAsync();
        _disposables.Add(provider);
        var first = OpenIdProvider.NewKey("key-1");
        var second = OpenIdProvider.NewKey("key-2");
        provider.Publish(first);
        var client = Start($$"""
            <validate-jwt header-name="Authorization">
              <openid-config url="{{provider.Url}}{{OpenIdProvider.ConfigurationPath}}" />
              <audiences><audience>{{Audience}}</audience></audiences>
            </validate-jwt>
            """);
        string TokenOf(RsaSecurityKey key, string issuer) => "Bearer " + Token(new SigningCredentials(key, SecurityAlgorithms.RsaSha256), d => d.Issuer = issuer);

        using var valid = await SendAsync(client, authorization: TokenOf(first, provider.Issuer));
        using var validAgain = await SendAsync(client, authorization: TokenOf(first, provider.Issuer));
        using var wrongIssuer = await SendAsync(client, authorization: TokenOf(first, Issuer));
        var fetchesBeforeRotation = (provider.ConfigurationRequests, provider.KeyRequests);
        provider.Publish(first, second);
        using var rotatedTooSoon = await SendAsync(client, authorization: TokenOf(second, provider.Issuer));
        _time.Advance(TimeSpan.FromMinutes(5));
        using var rotated = await SendAsync(client, authorization: TokenOf(second, provider.Issuer));

        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Equal(HttpStatusCode.OK, validAgain.StatusCode);
        Assert.Equal("TokenIssuerNotAllowed", Reason(wrongIssuer));
        Assert.Equal((1, 1), fetchesBeforeRotation);
        Assert.Equal("TokenSignatureKeyNotFound", Reason(rotatedTooSoon));
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.Equal((2, 2), (provider.ConfigurationRequests, provider.KeyRequests));
    }

    [Fact]
    [Covers("validate-jwt", "header-name")]
    public async Task ValidateJwt_OpenIdConfigFromAFileUnderApim_UsesItsKeysAndIssuer()
    {
        var key = OpenIdProvider.NewKey("file-key");
        Directory.CreateDirectory(Path.Combine(_apim.Path, "openid"));
        File.WriteAllText(Path.Combine(_apim.Path, "openid", "configuration.json"), """{"issuer":"https://login.local/tenant/v2.0","jwks_uri":"openid/keys.json"}""");
        File.WriteAllText(Path.Combine(_apim.Path, "openid", "keys.json"), OpenIdProvider.KeySet([key]));
        var client = Start("""
            <validate-jwt header-name="Authorization">
              <openid-config url="openid/configuration.json" />
            </validate-jwt>
            """);
        var signing = new SigningCredentials(key, SecurityAlgorithms.RsaSha256);

        using var valid = await SendAsync(client, authorization: "Bearer " + Token(signing, d => d.Issuer = "https://login.local/tenant/v2.0"));
        using var otherIssuer = await SendAsync(client, authorization: "Bearer " + Token(signing));

        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Equal("TokenIssuerNotAllowed", Reason(otherIssuer));
    }

    [Fact]
    [Covers("validate-jwt", "header-name")]
    public async Task ValidateJwt_KeyFromANamedValueInConfiguration_Validates()
    {
        var client = Start(
            """
            <validate-jwt header-name="Authorization" require-scheme="Bearer">
              <issuer-signing-keys><key>{{jwt-signing-key}}</key></issuer-signing-keys>
            </validate-jwt>
            """,
            settings: new Dictionary<string, string> { ["Apim:NamedValues:jwt-signing-key"] = HmacKeyBase64 });

        using var valid = await SendAsync(client, authorization: "Bearer " + Token(Hmac()));

        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }

    [Fact]
    [Covers("validate-jwt", "header-name")]
    public async Task ValidateJwt_HmacKeyShorterThan256Bits_ValidatesAsApiManagementDoes()
    {
        // 18 bytes, as in public API Management labs; the JWT library refuses to sign with it, so the test signs by hand.
        var key = Encoding.ASCII.GetBytes("short-lab-key-1234");
        var client = Start($$"""
            <validate-jwt header-name="Authorization">
              <issuer-signing-keys><key>{{Convert.ToBase64String(key)}}</key></issuer-signing-keys>
            </validate-jwt>
            """);
        var header = Base64UrlEncoder.Encode("""{"alg":"HS256","typ":"JWT"}""");
        var payload = Base64UrlEncoder.Encode($$"""{"sub":"lab","exp":{{(Now + TimeSpan.FromHours(1)).ToUnixTimeSeconds()}}}""");
        var signature = Base64UrlEncoder.Encode(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(header + "." + payload)));

        using var valid = await SendAsync(client, authorization: $"Bearer {header}.{payload}.{signature}");
        using var tampered = await SendAsync(client, authorization: $"Bearer {header}.{payload}.{signature[..^2]}AA");

        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Equal("TokenSignatureInvalid", Reason(tampered));
    }

    [Fact]
    [Covers("validate-jwt", "header-name", "output-token-variable-name")]
    public async Task ValidateJwt_EncryptedToken_IsDecryptedWithTheDecryptionKey()
    {
        var encryption = RandomNumberGenerator.GetBytes(32);
        var client = Start($$"""
            <validate-jwt header-name="Authorization" output-token-variable-name="jwt">
              <issuer-signing-keys><key>{{HmacKeyBase64}}</key></issuer-signing-keys>
              <decryption-keys><key>{{Convert.ToBase64String(encryption)}}</key></decryption-keys>
            </validate-jwt>
            """);
        var token = Token(Hmac(), d =>
        {
            d.EncryptingCredentials = new EncryptingCredentials(new SymmetricSecurityKey(encryption), "dir", SecurityAlgorithms.Aes128CbcHmacSha256);
            d.Claims["roles"] = "secret-reader";
        });
        var wrongKey = Token(Hmac(), d => d.EncryptingCredentials = new EncryptingCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)), "dir", SecurityAlgorithms.Aes128CbcHmacSha256));

        using var valid = await SendAsync(client, authorization: "Bearer " + token);
        using var undecryptable = await SendAsync(client, authorization: "Bearer " + wrongKey);

        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.EndsWith("|secret-reader|secret-reader", await valid.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("JwtInvalid", Reason(undecryptable));
    }

    [Fact]
    public async Task AsJwtAndTryParseJwt_ReadATokenInAnExpressionWithoutValidatingIt()
    {
        File.WriteAllText(_apim.PolicyPath, """
            <policies>
              <inbound>
                <return-response>
                  <set-body>@{
                    Jwt jwt;
                    var header = context.Request.Headers.GetValueOrDefault("Authorization", "");
                    var parsed = header.Split(' ').Last().TryParseJwt(out jwt);
                    return parsed + "|" + (parsed ? jwt.Subject + "|" + jwt.Claims.GetValueOrDefault("roles", "none") : "") + "|" + ("not a token".AsJwt() == null);
                  }</set-body>
                </return-response>
              </inbound>
            </policies>
            """);
        var client = Track(new GatewayFactory(_apim, "http://127.0.0.1:9")).CreateClient();

        using var token = await SendAsync(client, authorization: "Bearer " + Token(Hmac(), d => d.Claims["roles"] = TwoRoles));
        using var garbage = await SendAsync(client, authorization: "Bearer abc.def");

        Assert.Equal("True|user-1|a,b|True", await token.Content.ReadAsStringAsync());
        Assert.Equal("False||True", await garbage.Content.ReadAsStringAsync());
    }

    [Theory]
    [Covers("validate-jwt", "header-name", "query-parameter-name", "token-value", "failed-validation-httpcode", "require-expiration-time", "require-signed-tokens", "clock-skew", "output-token-variable-name")]
    [InlineData("""<validate-jwt header-name="Authorization" query-parameter-name="t" />""", "<validate-jwt> takes exactly one of 'header-name', 'query-parameter-name' and 'token-value'")]
    [InlineData("""<validate-jwt />""", "<validate-jwt> takes exactly one of 'header-name', 'query-parameter-name' and 'token-value'")]
    [InlineData("""<validate-jwt token-value="@("x")" header-name="a" />""", "<validate-jwt> takes exactly one of")]
    [InlineData("""<validate-jwt header-name="a" failed-validation-httpcode="teapot" />""", "attribute 'failed-validation-httpcode' of <validate-jwt> must be an HTTP status code, not 'teapot'")]
    [InlineData("""<validate-jwt header-name="a" require-expiration-time="yes" />""", "attribute 'require-expiration-time' of <validate-jwt> must be true or false, not 'yes'")]
    [InlineData("""<validate-jwt header-name="a" require-signed-tokens="no" />""", "attribute 'require-signed-tokens' of <validate-jwt> must be true or false, not 'no'")]
    [InlineData("""<validate-jwt header-name="a" clock-skew="-5" />""", "attribute 'clock-skew' of <validate-jwt> must be a whole number of seconds, not '-5'")]
    [InlineData("""<validate-jwt header-name="a" output-token-variable-name="@("jwt")" />""", "attribute 'output-token-variable-name' of <validate-jwt> does not accept policy expressions")]
    [InlineData("""<validate-jwt header-name="a"><issuer-signing-keys><key certificate-id="my-cert" /></issuer-signing-keys></validate-jwt>""", "certificate-id=\"my-cert\" on <key> is not supported by this gateway")]
    [InlineData("""<validate-jwt header-name="a"><issuer-signing-keys><key>not base64!</key></issuer-signing-keys></validate-jwt>""", "<key> must hold a base64-encoded key (or 'n' and 'e')")]
    [InlineData("""<validate-jwt header-name="a"><issuer-signing-keys><key>@("x")</key></issuer-signing-keys></validate-jwt>""", "<key> does not accept policy expressions")]
    [InlineData("""<validate-jwt header-name="a"><issuer-signing-keys><key n="AQAB" /></issuer-signing-keys></validate-jwt>""", "<key> takes either base64 text or both 'n' and 'e'")]
    [InlineData("""<validate-jwt header-name="a"><decryption-keys><key n="AQAB" e="AQAB" /></decryption-keys></validate-jwt>""", "an RSA public key (n and e) cannot decrypt")]
    [InlineData("""<validate-jwt header-name="a"><required-claims><claim name="x" match="most" /></required-claims></validate-jwt>""", "attribute 'match' of <claim> must be all or any, not 'most'")]
    [InlineData("""<validate-jwt header-name="a"><audiences /><audiences /></validate-jwt>""", "<audiences> appears twice inside <validate-jwt>")]
    [InlineData("""<validate-jwt header-name="a"><scopes /></validate-jwt>""", "<scopes> is not allowed inside <validate-jwt>")]
    [InlineData("""<validate-jwt header-name="a"><openid-config /></validate-jwt>""", "<openid-config> requires attribute 'url'")]
    [InlineData("""<validate-jwt header-name="a" header-value="b" />""", "unknown attribute 'header-value' on <validate-jwt>")]
    public void ValidateJwt_BadAttributesOrChildren_FailTheLoad(string element, string problem)
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            $"<policies><inbound>{element}</inbound></policies>", "policy.xml", PolicyScope.Api, new NamedValues(new Dictionary<string, string?>())));

        Assert.Contains(error.Problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    [Covers("validate-jwt", "header-name")]
    public void ValidateJwt_OutsideInbound_FailsTheLoad()
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            """<policies><outbound><validate-jwt header-name="Authorization" /></outbound></policies>""", "policy.xml", PolicyScope.Api, new NamedValues(new Dictionary<string, string?>())));

        Assert.Contains("<validate-jwt> is not allowed in the outbound section (allowed in: inbound)", Assert.Single(error.Problems), StringComparison.Ordinal);
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

    private static SigningCredentials Hmac() => new(new SymmetricSecurityKey(HmacKey), SecurityAlgorithms.HmacSha256);

    /// <summary>A token issued a minute ago for <see cref="Audience"/> by <see cref="Issuer"/>, expiring in an hour.</summary>
    private static string Token(SigningCredentials? credentials, Action<SecurityTokenDescriptor>? edit = null)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = (Now - TimeSpan.FromMinutes(1)).UtcDateTime,
            NotBefore = (Now - TimeSpan.FromMinutes(1)).UtcDateTime,
            Expires = (Now + TimeSpan.FromHours(1)).UtcDateTime,
            SigningCredentials = credentials,
            Claims = new Dictionary<string, object> { ["sub"] = "user-1" },
        };
        edit?.Invoke(descriptor);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

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
    /// The gateway on the fake clock with the API policy: the element under test, then a response listing what the
    /// output variable holds. on-error reports <c>context.LastError</c> in <c>x-error</c> (single line) and lets the
    /// element's own response through unless <paramref name="onError"/> answers.
    /// </summary>
    private HttpClient Start(string validateJwt, string onError = "", IReadOnlyDictionary<string, string>? settings = null)
    {
        File.WriteAllText(_apim.PolicyPath, $$"""
            <policies>
              <inbound>
                {{validateJwt}}
                <return-response>
                  <set-status code="200" reason="OK" />
                  <set-body>@{
                    var jwt = context.Variables.GetValueOrDefault<Jwt>("jwt");
                    if (jwt == null) { return "validated"; }
                    Func<DateTime?, string> time = t => t.HasValue ? t.Value.ToString("s") : "none";
                    return string.Join("|", jwt.Algorithm, jwt.Type, jwt.Id, jwt.Subject, jwt.Issuer, string.Join(",", jwt.Audiences),
                      time(jwt.IssuedAt), time(jwt.NotBefore), time(jwt.ExpirationTime),
                      jwt.Claims.GetValueOrDefault("roles", "none"), string.Join(",", jwt.Claims.ContainsKey("roles") ? jwt.Claims["roles"] : new string[0]));
                  }</set-body>
                </return-response>
              </inbound>
              <on-error>
                <set-header name="x-error" exists-action="override">
                  <value>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Message.Replace("\r", " ").Replace("\n", " "))</value>
                </set-header>
                {{onError}}
              </on-error>
            </policies>
            """);
        return Track(new GatewayFactory(_apim, "http://127.0.0.1:9", time: _time, settings: settings)).CreateClient();
    }

    private T Track<T>(T disposable)
        where T : IAsyncDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }
}
