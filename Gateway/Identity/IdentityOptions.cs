using System.ComponentModel.DataAnnotations;

namespace Gateway.Identity;

/// <summary>Which token provider <c>authentication-managed-identity</c> uses, and where <c>validate-azure-ad-token</c> finds Entra ID.</summary>
internal sealed class IdentityOptions
{
    public const string SectionName = "Identity";

    /// <summary>
    /// <c>local</c> or <c>azure</c>. When unset: local if a local signing key is configured (as the AppHost does), azure
    /// otherwise, so a gateway started alone against real accounts needs no setting at all.
    /// </summary>
    public IdentityProviderKind? Provider { get; set; }

    /// <summary>
    /// Where <c>validate-azure-ad-token</c> gets each tenant's OpenID configuration instead of the policy's
    /// <c>authentication-endpoint</c> (default <c>https://login.microsoftonline.com</c>): the documents are read from
    /// <c>{EntraAuthority}/{tenant}/v2.0/.well-known/openid-configuration</c> and <c>{EntraAuthority}/{tenant}/.well-known/openid-configuration</c>.
    /// The AppHost points it at the gateway's local Entra tenant (<see cref="LocalEntraApi"/>), so nothing reaches the internet.
    /// </summary>
    [Url]
    public string? EntraAuthority { get; set; }

    /// <summary>The provider in force: <see cref="Provider"/>, or the default for the local identity's configuration.</summary>
    public IdentityProviderKind Resolve(LocalIdentityOptions local) => Provider ?? (local.HasSigningKey ? IdentityProviderKind.Local : IdentityProviderKind.Azure);
}
