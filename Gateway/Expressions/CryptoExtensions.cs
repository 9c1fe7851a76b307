using System.Security.Cryptography;

namespace Gateway.Expressions;

/// <summary>
/// API Management's <c>Encrypt</c> and <c>Decrypt</c> on <c>byte[]</c>: a symmetric algorithm by name (with a key and an
/// IV) or as an instance (its own key and IV, or the ones given), with the algorithm's defaults (CBC, PKCS#7 padding).
/// By name, AES only: <c>Aes</c> and <c>Rijndael</c> (128-bit blocks, so AES) as .NET Framework's
/// <c>SymmetricAlgorithm.Create</c> spelled them; the broken DES, TripleDES and RC2 are refused by name
/// (docs/fidelity.md). Microsoft's MCP labs use <c>bytes.Encrypt("Aes", key, IV)</c> and <c>Decrypt("Aes", key, IV)</c>.
/// </summary>
public static class CryptoExtensions
{
    public static byte[] Encrypt(this byte[] input, string alg, byte[] key, byte[] iv)
    {
        using var algorithm = Create(alg);
        return Encrypt(input, algorithm, key, iv);
    }

    public static byte[] Encrypt(this byte[] input, SymmetricAlgorithm alg) => Transform(input, alg?.CreateEncryptor());

    public static byte[] Encrypt(this byte[] input, SymmetricAlgorithm alg, byte[] key, byte[] iv) => Transform(input, alg?.CreateEncryptor(key, iv));

    public static byte[] Decrypt(this byte[] input, string alg, byte[] key, byte[] iv)
    {
        using var algorithm = Create(alg);
        return Decrypt(input, algorithm, key, iv);
    }

    public static byte[] Decrypt(this byte[] input, SymmetricAlgorithm alg) => Transform(input, alg?.CreateDecryptor());

    public static byte[] Decrypt(this byte[] input, SymmetricAlgorithm alg, byte[] key, byte[] iv) => Transform(input, alg?.CreateDecryptor(key, iv));

    private static byte[] Transform(byte[] input, ICryptoTransform? transform)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(transform, "alg");
        using (transform)
        {
            return transform.TransformFinalBlock(input, 0, input.Length);
        }
    }

    private static Aes Create(string name) => name?.Trim().ToUpperInvariant() switch
    {
        "AES" or "AESMANAGED" or "AESCRYPTOSERVICEPROVIDER" or "SYSTEM.SECURITY.CRYPTOGRAPHY.AES"
            or "RIJNDAEL" or "RIJNDAELMANAGED" or "SYSTEM.SECURITY.CRYPTOGRAPHY.RIJNDAEL" => Aes.Create(),
        _ => throw new ArgumentException($"'{name}' is not a symmetric algorithm the gateway emulates (Aes, Rijndael).", nameof(name)),
    };
}
