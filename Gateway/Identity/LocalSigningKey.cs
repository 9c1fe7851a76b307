using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Identity;

/// <summary>
/// The RSA key of the local stand-in for Microsoft Entra ID (<see cref="LocalIdentityOptions"/>): it signs the
/// managed-identity tokens of <see cref="LocalTokenIssuer"/> and the app and user tokens of <see cref="LocalEntraIssuer"/>,
/// as one tenant's keys sign every kind of token in Entra ID. Its public half is published as a JSON web key set.
/// </summary>
internal sealed class LocalSigningKey : IDisposable
{
    private readonly RSA _key;

    public LocalSigningKey(IOptions<LocalIdentityOptions> options)
    {
        _key = RSA.Create();
        _key.ImportFromPem(options.Value.ReadSigningKeyPem());

        // Derived from the public key, so tokens name the key that signed them.
        KeyId = Base64UrlEncoder.Encode(SHA256.HashData(_key.ExportSubjectPublicKeyInfo()))[..16];
        // Not the process-wide provider factory: it caches signature providers by key id, so a key made later with the
        // same id (a second host in the process, as tests start them) would sign with this one's RSA after Dispose.
        var securityKey = new RsaSecurityKey(_key)
        {
            KeyId = KeyId,
            CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false },
        };
        Credentials = new SigningCredentials(securityKey, SecurityAlgorithms.RsaSha256);
    }

    public string KeyId { get; }

    /// <summary>RS256 with the key, naming <see cref="KeyId"/>.</summary>
    public SigningCredentials Credentials { get; }

    /// <summary>The public key as a JSON web key set (<c>{"keys":[{"kty":"RSA","use":"sig","kid",...,"n","e"}]}</c>), as Entra ID publishes its keys.</summary>
    public string KeySet()
    {
        var parameters = _key.ExportParameters(includePrivateParameters: false);
        var key = new JsonObject
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["kid"] = KeyId,
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
        };
        return new JsonObject { ["keys"] = new JsonArray(key) }.ToJsonString();
    }

    public void Dispose() => _key.Dispose();
}
