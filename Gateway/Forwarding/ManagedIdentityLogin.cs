namespace Gateway.Forwarding;

/// <summary>
/// The <c>authentication-managed-identity</c> inside a <c>send-request</c> or <c>send-one-way-request</c>: the request is
/// sent with <c>Authorization: Bearer</c> and a token for <paramref name="Resource"/> from the gateway's managed identity.
/// </summary>
/// <param name="Resource">The resource the token is for (its audience).</param>
/// <param name="ClientId">The user-assigned identity's client id; null for the system-assigned one.</param>
/// <param name="IgnoreError">Whether to send without a token when none can be had, instead of failing.</param>
internal sealed record ManagedIdentityLogin(string Resource, string? ClientId, bool IgnoreError);
