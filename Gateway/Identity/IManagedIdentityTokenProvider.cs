namespace Gateway.Identity;

/// <summary>The gateway's managed identity: tokens for a resource, for the user-assigned identity <c>clientId</c> or the system one.</summary>
internal interface IManagedIdentityTokenProvider
{
    ValueTask<AccessToken> GetTokenAsync(string resource, string? clientId, CancellationToken cancellationToken);
}
