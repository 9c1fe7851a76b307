using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Support;

/// <summary>
/// Microsoft Entra style tokens for the credential manager (<c>get-authorization-context identity-type="jwt"</c>):
/// audience <c>https://azure-api.net/authorization-manager</c>, <c>oid</c> and <c>tid</c>; signed with a throw-away key
/// (the gateway does not check the signature).
/// </summary>
internal static class AuthorizationManagerTokens
{
    public const string Audience = "https://azure-api.net/authorization-manager";
    public const string ObjectId = "7f1c2d3e-0000-4000-8000-00000000a11c";
    public const string TenantId = "72f988bf-0000-4000-8000-0000000071d0";

    public static string Mint(
        DateTimeOffset now,
        string audience = Audience,
        string? objectId = ObjectId,
        string? tenantId = TenantId,
        TimeSpan? lifetime = null,
        TimeSpan? startsIn = null)
    {
        var claims = new Dictionary<string, object>(StringComparer.Ordinal);
        if (objectId is not null)
        {
            claims["oid"] = objectId;
        }

        if (tenantId is not null)
        {
            claims["tid"] = tenantId;
        }

        var notBefore = now + (startsIn ?? TimeSpan.FromMinutes(-5));
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = $"https://sts.windows.net/{tenantId}/",
            Audience = audience,
            Claims = claims,
            IssuedAt = notBefore.UtcDateTime,
            NotBefore = notBefore.UtcDateTime,
            Expires = (now + (lifetime ?? TimeSpan.FromHours(1))).UtcDateTime,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }
}
