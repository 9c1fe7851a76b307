using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Identity;

/// <summary>
/// Issues managed-identity tokens locally: RS256 JWTs whose audience is the requested resource, signed with the key
/// from <see cref="LocalIdentityOptions"/>. Tokens are cached per resource and identity until shortly before they expire,
/// as API Management caches them.
/// </summary>
internal sealed class LocalTokenIssuer : IManagedIdentityTokenProvider, IDisposable
{
    /// <summary>A cached token is renewed this long before it expires.</summary>
    public static readonly TimeSpan RenewBeforeExpiry = TimeSpan.FromMinutes(5);

    private const string SystemAssigned = "system-assigned";

    private readonly RSA _key;
    private readonly SigningCredentials _credentials;
    private readonly LocalIdentityOptions _options;
    private readonly TimeProvider _time;
    private readonly JsonWebTokenHandler _handler = new();
    private readonly ConcurrentDictionary<(string Resource, string ClientId), AccessToken> _cache = new();

    public LocalTokenIssuer(IOptions<LocalIdentityOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        _key = RSA.Create();
        _key.ImportFromPem(_options.ReadSigningKeyPem());
        // Not the process-wide provider factory: it caches signature providers by key id, so an issuer made later with the
        // same key (a second host in the process) would sign with this one's RSA after Dispose.
        var securityKey = new RsaSecurityKey(_key)
        {
            KeyId = KeyIdOf(_key),
            CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false },
        };
        _credentials = new SigningCredentials(securityKey, SecurityAlgorithms.RsaSha256);
    }

    public ValueTask<AccessToken> GetTokenAsync(string resource, string? clientId, CancellationToken cancellationToken)
    {
        var key = (resource, clientId ?? SystemAssigned);
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(key, out var cached) && cached.ExpiresOn - RenewBeforeExpiry > now)
        {
            return ValueTask.FromResult(cached);
        }

        var token = Issue(resource, key.Item2, now);
        _cache[key] = token;
        return ValueTask.FromResult(token);
    }

    /// <summary>A key id derived from the public key, so tokens name the key that signed them.</summary>
    private static string KeyIdOf(RSA key) => Base64UrlEncoder.Encode(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))[..16];

    public void Dispose() => _key.Dispose();

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
            SigningCredentials = _credentials,
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
