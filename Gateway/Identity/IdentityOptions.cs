namespace Gateway.Identity;

/// <summary>Which token provider <c>authentication-managed-identity</c> uses.</summary>
internal sealed class IdentityOptions
{
    public const string SectionName = "Identity";

    /// <summary>
    /// <c>local</c> or <c>azure</c>. When unset: local if a local signing key is configured (as the AppHost does), azure
    /// otherwise, so a gateway started alone against real accounts needs no setting at all.
    /// </summary>
    public IdentityProviderKind? Provider { get; set; }

    /// <summary>The provider in force: <see cref="Provider"/>, or the default for the local identity's configuration.</summary>
    public IdentityProviderKind Resolve(LocalIdentityOptions local) => Provider ?? (local.HasSigningKey ? IdentityProviderKind.Local : IdentityProviderKind.Azure);
}
