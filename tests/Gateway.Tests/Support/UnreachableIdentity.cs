using Gateway.Identity;

namespace Gateway.Tests.Support;

/// <summary>A managed identity whose token endpoint cannot be reached.</summary>
internal sealed class UnreachableIdentity : IManagedIdentityTokenProvider
{
    public ValueTask<AccessToken> GetTokenAsync(string resource, string? clientId, CancellationToken cancellationToken) =>
        throw new HttpRequestException("The managed identity endpoint could not be reached.");
}
