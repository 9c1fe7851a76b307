using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Identity;

/// <summary>
/// Issues managed-identity tokens locally: RS256 JWTs whose audience is the requested resource, signed with the key
/// of <see cref="LocalSigningKey"/>. Tokens are cached per resource and identity until shortly before they expire, as API
/// Management caches them.
/// </summary>
internal sealed class LocalTokenIssuer(LocalSigningKey signingKey, IOptions<LocalIdentityOptions> options, TimeProvider time) : IManagedIdentityTokenProvider
{
    /// <summary>A cached token is renewed this long before it expires.</summary>
    public static readonly TimeSpan RenewBeforeExpiry = TimeSpan.FromMinutes(5);

    private const string SystemAssigned = "system-assigned";

    private readonly LocalIdentityOptions _options = options.Value;
    private readonly JsonWebTokenHandler _handler = new();
    private readonly ConcurrentDictionary<(string Resource, string ClientId), AccessToken> _cache = new();

    public ValueTask<AccessToken> GetTokenAsync(string resource, string? clientId, CancellationToken cancellationToken)
    {
        var key = (resource, clientId ?? SystemAssigned);
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(key, out var cached) && cached.ExpiresOn - RenewBeforeExpiry > now)
        {
            return ValueTask.FromResult(cached);
        }

        var token = Issue(resource, key.Item2, now);
        _cache[key] = token;
        return ValueTask.FromResult(token);
    }

    private AccessToken Issue(string resource, string clientId, DateTimeOffset now)
    {
        var expires = now + _options.TokenLifetime;
        var jwt = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = resource,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = signingKey.Credentials,
            Subject = new ClaimsIdentity(
            [
                new Claim("appid", clientId),
                new Claim("oid", clientId),
                new Claim("sub", clientId),
                new Claim("idtyp", "app"),
            ]),
        });
        return new AccessToken(jwt, expires);
    }
}
