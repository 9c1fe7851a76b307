using System.Security.Cryptography;

namespace AppHost;

/// <summary>
/// The key pair of the local managed-identity issuer: the gateway signs with the private key, every mock verifies with
/// the public one. A new pair per run, unless configuration gives one (<c>LocalIdentity:SigningKey</c>, PEM).
/// </summary>
internal sealed record LocalIdentityKeys(string PrivateKeyPem, string PublicKeyPem)
{
    public static LocalIdentityKeys Create(string? configuredPrivateKeyPem)
    {
        using var rsa = RSA.Create(2048);
        if (!string.IsNullOrWhiteSpace(configuredPrivateKeyPem))
        {
            rsa.ImportFromPem(configuredPrivateKeyPem);
        }

        return new LocalIdentityKeys(rsa.ExportPkcs8PrivateKeyPem(), rsa.ExportSubjectPublicKeyInfoPem());
    }
}
