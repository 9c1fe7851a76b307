using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Policies.Elements;

/// <summary>
/// The <c>key</c> elements of <c>issuer-signing-keys</c> and <c>decryption-keys</c>: base64 text (a symmetric key) or
/// <c>n</c> and <c>e</c> (an RSA public key, base64url), with an optional <c>id</c>; <c>certificate-id</c> is refused.
/// </summary>
internal static class JwtKeys
{
    /// <summary>HMAC keys this short are zero-padded (see <see cref="SigningKey"/>).</summary>
    private const int MinimumHmacKeyBytes = 32;

    /// <summary>The <c>key</c> children of a keys element; a key that cannot be read is reported and left out.</summary>
    public static IReadOnlyList<SecurityKey> ParseAll(ElementReader container, bool forSigning)
    {
        var keys = new List<SecurityKey>();
        var elements = container.Children("key");
        for (var i = 0; i < elements.Count; i++)
        {
            if (Parse(container.Reader(elements[i], i + 1), forSigning) is { } key)
            {
                keys.Add(key);
            }
        }

        return keys;
    }

    private static SecurityKey? Parse(ElementReader key, bool forSigning)
    {
        // Never null: the library compares every key's id with the token's kid and fails on a null one.
        var id = key.Literal("id") ?? string.Empty;
        key.Refuse("certificate-id", reason: forSigning
            ? "uploaded certificates are not modelled locally; give the public key as n and e"
            : "uploaded certificates are not modelled locally; only base64 symmetric keys decrypt");
        var modulus = key.Literal("n");
        var exponent = key.Literal("e");
        key.Children();
        key.Finish();

        // Never echo the key text in a message: it is a secret.
        var text = string.Concat(key.Element.Nodes().OfType<XText>().Select(t => t.Value)).Trim();
        if (PolicyParser.IsExpression(text))
        {
            key.Error("<key> does not accept policy expressions (a named value such as {{jwt-signing-key}} does)");
            return null;
        }

        if (modulus is not null || exponent is not null)
        {
            if (!forSigning)
            {
                key.Error("a decryption key must be a base64 symmetric key: an RSA public key (n and e) cannot decrypt");
                return null;
            }

            if (modulus is null || exponent is null || text.Length > 0)
            {
                key.Error("<key> takes either base64 text or both 'n' and 'e'");
                return null;
            }

            try
            {
                // From an RSA instance: the library's failure path dereferences the key's Rsa, which a key built from bare
                // parameters lacks. The instance lives as long as the policy document.
                var rsa = RSA.Create(new RSAParameters { Modulus = Base64UrlEncoder.DecodeBytes(modulus), Exponent = Base64UrlEncoder.DecodeBytes(exponent) });
                return new RsaSecurityKey(rsa) { KeyId = id };
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or CryptographicException)
            {
                key.Error("'n' and 'e' of <key> must be the base64url modulus and exponent of an RSA public key");
                return null;
            }
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            key.Error("<key> must hold a base64-encoded key (or 'n' and 'e')");
            return null;
        }

        if (bytes.Length == 0)
        {
            key.Error("<key> must hold a base64-encoded key (or 'n' and 'e')");
            return null;
        }

        return new SymmetricSecurityKey(forSigning ? SigningKey(bytes) : bytes) { KeyId = id };
    }

    /// <summary>
    /// API Management accepts HMAC keys shorter than the 256 bits the JWT library insists on. HMAC pads a short key with
    /// zeros to its block size (64 or 128 bytes), so the key padded to 32 bytes computes the very same signatures.
    /// </summary>
    private static byte[] SigningKey(byte[] bytes)
    {
        if (bytes.Length >= MinimumHmacKeyBytes)
        {
            return bytes;
        }

        var padded = new byte[MinimumHmacKeyBytes];
        bytes.CopyTo(padded, 0);
        return padded;
    }
}
