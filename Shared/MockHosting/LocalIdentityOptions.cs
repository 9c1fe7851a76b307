using System.ComponentModel.DataAnnotations;
using LocalIdentity;

namespace MockHosting;

/// <summary>
/// What an account accepts as Microsoft Entra ID tokens: RS256 JWTs signed by the local issuer's key, for the
/// Cognitive Services audience, from the local issuer, not expired.
/// </summary>
internal sealed class LocalIdentityOptions : IValidatableObject
{
    public const string SectionName = "LocalIdentity";

    /// <summary>The issuer's public key as PEM text.</summary>
    public string? PublicKey { get; set; }

    /// <summary>A file holding the issuer's public key as PEM.</summary>
    public string? PublicKeyFile { get; set; }

    [Required]
    public string Issuer { get; set; } = LocalTokenClaims.Issuer;

    [Required]
    public string Audience { get; set; } = LocalTokenClaims.Audience;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(PublicKey) && string.IsNullOrWhiteSpace(PublicKeyFile))
        {
            yield return new ValidationResult(
                "LocalIdentity:PublicKey (PEM text) or LocalIdentity:PublicKeyFile is required: the key that verifies the gateway's managed-identity tokens. The AppHost sets it; see README 'Run a service alone'.",
                [nameof(PublicKey)]);
        }
        else if (!string.IsNullOrWhiteSpace(PublicKeyFile) && !File.Exists(PublicKeyFile))
        {
            yield return new ValidationResult($"LocalIdentity:PublicKeyFile '{PublicKeyFile}' does not exist.", [nameof(PublicKeyFile)]);
        }
    }

    public string ReadPublicKeyPem() => !string.IsNullOrWhiteSpace(PublicKey) ? PublicKey : File.ReadAllText(PublicKeyFile!);
}
