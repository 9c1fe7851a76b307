using Azure.Core;
using Azure.Identity;

namespace Gateway.Identity;

/// <summary>
/// <see cref="DefaultAzureCredential"/>, so one chain serves both places the gateway runs: deployed, the managed identity
/// (the policy's <c>client-id</c> names a user-assigned one; without it the system-assigned one, as in API Management);
/// on a laptop, the developer's own login (environment service principal, Visual Studio, Azure CLI, Azure PowerShell,
/// Azure Developer CLI), for which <c>client-id</c> does not matter. Azure.Identity's <c>AZURE_TOKEN_CREDENTIALS</c>
/// narrows the chain (for example to <c>AzureCliCredential</c> or <c>ManagedIdentityCredential</c>).
/// </summary>
internal sealed class DefaultAzureCredentialFactory : ITokenCredentialFactory
{
    public TokenCredential Create(string? clientId) => new DefaultAzureCredential(new DefaultAzureCredentialOptions
    {
        // Set either way: the option otherwise defaults to AZURE_CLIENT_ID, and API Management takes a missing
        // client-id to mean the system-assigned identity.
        ManagedIdentityClientId = clientId,
    });
}
