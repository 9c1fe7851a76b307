using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Identity;

/// <summary>
/// A local Microsoft Entra ID tenant for <c>validate-azure-ad-token</c>: each tenant's OpenID configuration in the v1
/// and v2 forms (issuers <c>https://sts.windows.net/{tenant}/</c> and <c>https://login.microsoftonline.com/{tenant}/v2.0</c>,
/// as Entra ID writes them) with the keys of <see cref="LocalSigningKey"/>, and access tokens shaped as Entra ID issues
/// them: client-credential (app) tokens and delegated (user) tokens, v1 (<c>appid</c>, <c>upn</c>) or v2 (<c>azp</c>,
/// <c>preferred_username</c>). Tokens are signed with the local key only, so no service in Azure accepts them.
/// </summary>
internal sealed class LocalEntraIssuer(LocalSigningKey signingKey, IOptions<LocalIdentityOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>The tenant tokens are minted for when a request names none (<c>LocalIdentity:TenantId</c>).</summary>
    public Guid DefaultTenant => options.Value.TenantId;

    /// <summary>The <c>iss</c> of v1 tokens, as Entra ID writes it.</summary>
    public static string V1Issuer(Guid tenant) => $"https://sts.windows.net/{tenant:D}/";

    /// <summary>The <c>iss</c> of v2 tokens, as Entra ID writes it.</summary>
    public static string V2Issuer(Guid tenant) => $"https://login.microsoftonline.com/{tenant:D}/v2.0";

    /// <summary>The JSON web key set every tenant's documents name.</summary>
    public string KeySet() => signingKey.KeySet();

    /// <summary>
    /// A tenant's OpenID configuration: its issuer for the version and the key set at <paramref name="jwksUri"/>, with the
    /// fields OpenID Connect discovery requires.
    /// </summary>
    public static string Configuration(Guid tenant, int version, string jwksUri) => new JsonObject
    {
        ["issuer"] = version == 1 ? V1Issuer(tenant) : V2Issuer(tenant),
        ["jwks_uri"] = jwksUri,
        ["response_types_supported"] = new JsonArray("code", "id_token", "code id_token", "token id_token", "token"),
        ["subject_types_supported"] = new JsonArray("pairwise"),
        ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
        ["tenant_region_scope"] = "local",
    }.ToJsonString();

    /// <summary>A signed access token for the request, and when it expires.</summary>
    public AccessToken Mint(LocalEntraTokenRequest request)
    {
        var clientId = request.ClientId ?? throw new ArgumentException("A token needs a client id.", nameof(request));
        var tenant = request.Tenant ?? DefaultTenant;
        var now = time.GetUtcNow();
        var expires = now + options.Value.TokenLifetime;
        var v1 = request.Version == 1;
        var issuer = v1 ? V1Issuer(tenant) : V2Issuer(tenant);
        var user = request.User;
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["tid"] = tenant.ToString("D"),
            ["uti"] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            ["ver"] = v1 ? "1.0" : "2.0",
            [v1 ? "appid" : "azp"] = clientId,

            // 1: the client proved itself with a secret (client credentials); 0: a public client signed a user in.
            [v1 ? "appidacr" : "azpacr"] = user is null ? "1" : "0",
        };
        if (user is null)
        {
            // The client application's service principal in the tenant.
            claims["oid"] = claims["sub"] = DerivedId(tenant, clientId);
            claims["idtyp"] = "app";
            if (v1)
            {
                claims["idp"] = issuer;
            }
        }
        else
        {
            var objectId = user.ObjectId ?? DerivedId(tenant, user.UserPrincipalName ?? user.Name ?? "user");
            claims["oid"] = objectId;

            // Entra ID's user subject is pairwise: the same user has another sub in each application.
            claims["sub"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(objectId + "|" + clientId)));
            claims["scp"] = string.Join(' ', request.Scopes ?? ["user_impersonation"]);
            if (user.Name is { } name)
            {
                claims["name"] = name;
            }

            if (user.UserPrincipalName is { } upn)
            {
                if (v1)
                {
                    claims["upn"] = claims["unique_name"] = upn;
                    claims["amr"] = new[] { "pwd" };
                }
                else
                {
                    claims["preferred_username"] = upn;
                }
            }
        }

        if (request.Roles is { Count: > 0 } roles)
        {
            claims["roles"] = roles.ToArray();
        }

        foreach (var (name, value) in request.Claims ?? new Dictionary<string, System.Text.Json.JsonElement>())
        {
            claims[name] = value.ValueKind == System.Text.Json.JsonValueKind.Array
                ? value.EnumerateArray().Select(v => v.ToString()).ToArray()
                : value.ToString();
        }

        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = "JWT",
            Issuer = issuer,
            Audience = request.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = signingKey.Credentials,
            Claims = claims,
        });
        return new AccessToken(token, expires);
    }

    /// <summary>A stable object id for a name in a tenant (a service principal's, say), so repeated tokens agree.</summary>
    private static string DerivedId(Guid tenant, string name) =>
        new Guid(SHA256.HashData(Encoding.UTF8.GetBytes(tenant.ToString("D") + "|" + name))[..16]).ToString("D", CultureInfo.InvariantCulture);
}
