using Gateway.Apim;
using Gateway.Credentials;
using Gateway.Policies;
using Gateway.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Credentials;

public sealed class CredentialManagerTests
{
    private const string Token = "gho_local-github-token";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Acquire_ManagedIdentity_ReturnsTheConfiguredTokenAndClaims()
    {
        var manager = Manager();

        var authorization = manager.Acquire("github", "github-conn", ConnectionIdentityType.Managed, identity: null);

        Assert.Equal(Token, authorization.AccessToken);
        Assert.Equal("repo read:user", authorization.Claims["scope"]);
        Assert.Equal("Authorization", authorization.ToString());
    }

    [Fact]
    public void Acquire_IdsInAnotherCase_FindTheConnection()
    {
        var manager = Manager();

        Assert.Equal(Token, manager.Acquire("GitHub", "GITHUB-CONN", ConnectionIdentityType.Managed, identity: null).AccessToken);
    }

    [Theory]
    [InlineData("github", "other-conn")]
    [InlineData("spotify", "github-conn")]
    [InlineData("", "")]
    public void Acquire_UnknownConnection_IsConnectionNotFound(string provider, string connection)
    {
        var error = Assert.Throws<CredentialManagerException>(() => Manager().Acquire(provider, connection, ConnectionIdentityType.Managed, identity: null));

        Assert.Equal(ErrorReasons.ConnectionNotFound, error.Reason);
        Assert.Equal($"The connection '{connection}' of credential provider '{provider}' was not found.", error.Message);
    }

    [Fact]
    public void Acquire_ConnectionInAnErrorState_IsConnectionErrorWithItsMessage()
    {
        var manager = Manager(options => options.Connections["github"]["github-conn"].Error = "the refresh token was revoked");

        var error = Assert.Throws<CredentialManagerException>(() => manager.Acquire("github", "github-conn", ConnectionIdentityType.Managed, identity: null));

        Assert.Equal(ErrorReasons.ConnectionError, error.Reason);
        Assert.Contains("is in an error state: the refresh token was revoked", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Acquire_JwtOfAnIdentityWithAnAccessPolicy_ReturnsTheToken()
    {
        var identity = AuthorizationManagerTokens.Mint(_time.GetUtcNow());

        var authorization = Manager().Acquire("github", "github-conn", ConnectionIdentityType.Jwt, identity);

        Assert.Equal(Token, authorization.AccessToken);
    }

    [Fact]
    public void Acquire_JwtForAzureChina_IsAcceptedToo()
    {
        var identity = AuthorizationManagerTokens.Mint(_time.GetUtcNow(), audience: "https://azure-api.cn/authorization-manager");

        Assert.Equal(Token, Manager().Acquire("github", "github-conn", ConnectionIdentityType.Jwt, identity).AccessToken);
    }

    [Theory]
    [InlineData("wrong-audience", "audience is not https://azure-api.net/authorization-manager")]
    [InlineData("expired", "has no expiry or has expired")]
    [InlineData("not-yet-valid", "is not valid yet")]
    [InlineData("no-oid", "has no oid or no tid claim")]
    [InlineData("other-object", "no access policy names object '00000000-0000-4000-8000-000000000bad' of tenant")]
    [InlineData("other-tenant", "no access policy names object '7f1c2d3e-0000-4000-8000-00000000a11c' of tenant '00000000-0000-4000-8000-0000000000ff'")]
    [InlineData("not-a-jwt", "the identity is not a well-formed JWT")]
    [InlineData("", "no identity token was given")]
    public void Acquire_JwtTheConnectionDoesNotAllow_IsPermissionDenied(string identityCase, string why)
    {
        var now = _time.GetUtcNow();
        var identity = identityCase switch
        {
            "wrong-audience" => AuthorizationManagerTokens.Mint(now, audience: "https://management.azure.com/"),
            "expired" => AuthorizationManagerTokens.Mint(now, lifetime: TimeSpan.FromSeconds(-1)),
            "not-yet-valid" => AuthorizationManagerTokens.Mint(now, startsIn: TimeSpan.FromMinutes(1)),
            "no-oid" => AuthorizationManagerTokens.Mint(now, objectId: null),
            "other-object" => AuthorizationManagerTokens.Mint(now, objectId: "00000000-0000-4000-8000-000000000bad"),
            "other-tenant" => AuthorizationManagerTokens.Mint(now, tenantId: "00000000-0000-4000-8000-0000000000ff"),
            "not-a-jwt" => "not.a.jwt",
            _ => string.Empty,
        };

        var error = Assert.Throws<CredentialManagerException>(() => Manager().Acquire("github", "github-conn", ConnectionIdentityType.Jwt, identity));

        Assert.Equal(ErrorReasons.PermissionDenied, error.Reason);
        Assert.StartsWith("Permission denied. Double check that the access policy of the connection 'github-conn' of credential provider 'github' allows the identity: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, error.Message, StringComparison.Ordinal);
        if (identity.Length > 0)
        {
            Assert.DoesNotContain(identity, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Acquire_JwtOnTheSecondItsTokenExpires_IsPermissionDenied()
    {
        var identity = AuthorizationManagerTokens.Mint(_time.GetUtcNow(), lifetime: TimeSpan.FromMinutes(10));
        var manager = Manager();
        manager.Acquire("github", "github-conn", ConnectionIdentityType.Jwt, identity);

        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(ErrorReasons.PermissionDenied, Assert.Throws<CredentialManagerException>(() => manager.Acquire("github", "github-conn", ConnectionIdentityType.Jwt, identity)).Reason);
    }

    [Fact]
    public void Validate_ConnectionWithoutTokenOrAccessPolicyWithoutTenant_FailsNamingTheKeys()
    {
        var options = Options(o =>
        {
            o.Connections["github"]["github-conn"].AccessToken = null;
            o.Connections["github"]["github-conn"].AccessPolicies.Add(new AccessPolicyOptions { ObjectId = "x" });
        });

        var result = new ConnectionOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Apim:Connections:github:github-conn has no AccessToken (or an Error to emulate a connection in an error state).", result.Failures!);
        Assert.Contains("Apim:Connections:github:github-conn:AccessPolicies:1 needs both ObjectId and TenantId.", result.Failures!);
    }

    [Fact]
    public void Validate_ConnectionInAnErrorStateWithoutToken_Succeeds()
    {
        var options = Options(o =>
        {
            o.Connections["github"]["github-conn"].AccessToken = null;
            o.Connections["github"]["github-conn"].Error = "consent revoked";
        });

        Assert.True(new ConnectionOptionsValidator().Validate(null, options).Succeeded);
    }

    private CredentialManager Manager(Action<ApimOptions>? configure = null) => new(Microsoft.Extensions.Options.Options.Create(Options(configure)), _time);

    private static ApimOptions Options(Action<ApimOptions>? configure)
    {
        var options = new ApimOptions();
        options.Connections["github"] = new()
        {
            ["github-conn"] = new ConnectionOptions
            {
                AccessToken = Token,
                Claims = { ["scope"] = "repo read:user", ["token_type"] = "bearer" },
                AccessPolicies = { new AccessPolicyOptions { ObjectId = AuthorizationManagerTokens.ObjectId, TenantId = AuthorizationManagerTokens.TenantId } },
            },
        };
        configure?.Invoke(options);
        return options;
    }
}
