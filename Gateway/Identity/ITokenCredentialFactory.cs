using Azure.Core;

namespace Gateway.Identity;

/// <summary>Makes the Azure credential of a managed identity; <see cref="AzureTokenProvider"/> keeps one per client id.</summary>
internal interface ITokenCredentialFactory
{
    /// <param name="clientId">The user-assigned identity's client id, or null for the system-assigned identity.</param>
    TokenCredential Create(string? clientId);
}
