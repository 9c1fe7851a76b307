namespace Gateway.Credentials;

/// <summary>
/// A credential manager connection (API Management's <c>authorizationProviders/{provider}/authorizations/{connection}</c>)
/// as configuration stands in for it: <c>Apim:Connections:&lt;provider-id&gt;:&lt;authorization-id&gt;</c>. API Management
/// signs in to the provider and refreshes the token itself; here the token is given.
/// </summary>
internal sealed class ConnectionOptions
{
    /// <summary>The access token <c>get-authorization-context</c> hands out (a secret: from user secrets or the environment, never the repository).</summary>
    public string? AccessToken { get; set; }

    /// <summary>The other fields of the provider's token response (<c>token_type</c>, <c>scope</c>...), as text.</summary>
    public Dictionary<string, string> Claims { get; set; } = new(StringComparer.Ordinal);

    /// <summary>When set, the connection is in an error state (consent revoked, refresh failed) with this message.</summary>
    public string? Error { get; set; }

    /// <summary>
    /// The identities other than the gateway's managed identity that may use the connection (<c>identity-type="jwt"</c>),
    /// as API Management's access policies name them.
    /// </summary>
    public List<AccessPolicyOptions> AccessPolicies { get; set; } = [];
}
