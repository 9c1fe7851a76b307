using System.ComponentModel.DataAnnotations;
using LocalIdentity;

namespace Gateway.Identity;

/// <summary>
/// The local stand-in for Microsoft Entra ID: the RSA key that signs managed-identity tokens. The AppHost makes a key
/// pair per run and gives the public half to the mocks; a gateway run alone takes a PEM file or text.
/// </summary>
internal sealed class LocalIdentityOptions : IValidatableObject
{
    public const string SectionName = "LocalIdentity";

    /// <summary>The private key as PEM text (PKCS#1 or PKCS#8).</summary>
    public string? SigningKey { get; set; }

    /// <summary>A file holding the private key as PEM.</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>The <c>iss</c> of issued tokens; the mocks expect the same value (both default to <see cref="LocalTokenClaims.Issuer"/>).</summary>
    [Required]
    public string Issuer { get; set; } = LocalTokenClaims.Issuer;

    /// <summary>
    /// The local Entra tenant (<see cref="LocalEntraIssuer"/>): the tenant tokens are minted for when a request names none.
    /// Any tenant GUID has a local OpenID configuration, as any tenant has one in Entra ID.
    /// </summary>
    public Guid TenantId { get; set; } = DefaultTenantId;

    /// <summary>The default of <see cref="TenantId"/>: a fixed GUID, so named values and tokens stay valid across runs.</summary>
    public static readonly Guid DefaultTenantId = new("5e1a7c0d-a0a1-4c1e-9a7e-10ca1e47e4a7");

    /// <summary>How long a token lives (Entra ID's managed-identity tokens live hours; the cache renews before expiry).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Why the gateway cannot start with <c>Identity:Provider=local</c> and no key.</summary>
    public const string MissingKeyMessage =
        "Identity:Provider is local, and LocalIdentity:SigningKey (PEM text) or LocalIdentity:SigningKeyFile (a PEM file) is required: it signs the managed-identity tokens the mocks verify. The AppHost sets it; see README 'Run a service alone'.";

    /// <summary>Whether a key is configured; without one the gateway defaults to Azure's identity (<see cref="IdentityOptions"/>).</summary>
    public bool HasSigningKey => !string.IsNullOrWhiteSpace(SigningKey) || !string.IsNullOrWhiteSpace(SigningKeyFile);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // A missing key is checked with Identity:Provider (IdentityOptions): only the local issuer needs one.
        if (!string.IsNullOrWhiteSpace(SigningKeyFile) && !File.Exists(SigningKeyFile))
        {
            yield return new ValidationResult($"LocalIdentity:SigningKeyFile '{SigningKeyFile}' does not exist.", [nameof(SigningKeyFile)]);
        }
    }

    public string ReadSigningKeyPem() => !string.IsNullOrWhiteSpace(SigningKey) ? SigningKey : File.ReadAllText(SigningKeyFile!);
}
